"""Survey ingestion: the risk-point census files as the county offices export them, into one database.

See ``shared/spec/survey-inputs.md`` (the contract) and the README's "Survey inputs". The pieces:

- :mod:`risk.survey.fields`: canonical fields, their ranges and the headers recognised for them;
- :mod:`risk.survey.parse`: numbers, quantities, dates and coordinates as people write them;
- :mod:`risk.survey.coords`: GCJ-02 / BD-09 web-map coordinates to WGS84;
- :mod:`risk.survey.readers`: reading .csv/.xlsx/.geojson/.gpkg/.shp rows as they are (the I/O);
- :mod:`risk.survey.ingest`: typed point layers, rejected rows with reasons, the counts report.
"""

from risk.survey.ingest import REASONS, IngestResult, format_report, ingest, ingest_sources
from risk.survey.readers import check_sources, read_source
from risk.survey.source import RawSource, SourceSpec, SurveyInputError, plan_source, source_spec

__all__ = [
    "REASONS",
    "IngestResult",
    "RawSource",
    "SourceSpec",
    "SurveyInputError",
    "check_sources",
    "format_report",
    "ingest",
    "ingest_sources",
    "plan_source",
    "read_source",
    "source_spec",
]
