"""Everything that touches a path: files, vectors, rasters, styles, figures, the manifest.

The rest of the package stays pure (arrays and frames in, arrays and frames out). The common
readers and writers are re-exported here, so scripts write ``from risk import io`` and
``io.write_raster(...)``:

* :mod:`risk.io.files` -- atomic JSON, text and CSV writes;
* :mod:`risk.io.vectors` -- vector layers and the area of interest;
* :mod:`risk.io.rasters` -- rasters onto the grid (people per cell too), COG writing;
* :mod:`risk.io.batchwrite` -- several rasters of one Dask graph in one pass;
* :mod:`risk.io.tables` -- planner-filled tables, every cell as text;
* :mod:`risk.io.survey_db` -- the survey database read back;
* :mod:`risk.io.styles` -- QGIS ``.qml`` styles;
* :mod:`risk.io.figures` -- bilingual maps;
* :mod:`risk.io.manifest` -- provenance of a run.
"""

from risk.io.files import (
    FIXED_DATE,
    atomic_path,
    read_table,
    write_joblib,
    write_json,
    write_table,
    write_text,
)
from risk.io.rasters import (
    aoi_mask,
    grid_of,
    read_decimated,
    read_grid,
    read_population_on_grid,
    read_raster,
    read_raster_on_grid,
    read_rasters_on_grid,
    read_tags,
    source_cell_area_m2,
    write_raster,
)
from risk.io.vectors import read_aoi, read_vector, write_layers, write_vector

__all__ = [
    "aoi_mask", "atomic_path", "FIXED_DATE", "grid_of", "read_aoi", "read_decimated", "read_grid",
    "read_population_on_grid", "read_raster", "read_raster_on_grid", "read_rasters_on_grid",
    "read_table", "read_tags", "read_vector", "source_cell_area_m2", "write_joblib", "write_json",
    "write_layers", "write_raster", "write_table", "write_text", "write_vector",
]
