"""risk.qgz gives the same bytes on every rerun: no save time, user or random UUIDs, entries dated 1980."""

import zipfile

from risk.io.qgis import repack_qgz, stable_qgs

QGS = """<qgis saveUser="ann" saveUserFull="Ann" saveDateTime="2026-01-02T03:04:05" version="3.22">
  <creation>2026-01-02T03:04:05</creation>
  <layer id="Zones_3bcd1146_10ad_4f74_aade_c9680bf16fa0"/><ref to="Zones_3bcd1146_10ad_4f74_aade_c9680bf16fa0"/>
  <item uuid="{8a8b5564-1435-4b77-9e18-19d374a9132a}"/>
  <individual-layer-settings>
      <layer-setting id="b" enabled="1"/>
      <layer-setting id="a" enabled="1"/>
  </individual-layer-settings>
</qgis>
"""


def test_stable_qgs_removes_what_changes_between_saves():
    out = stable_qgs(QGS)
    assert 'saveDateTime=""' in out and 'saveUser="risk"' in out and "ann" not in out.lower()
    assert "<creation></creation>" in out
    assert out.count("Zones_00000000_0000_0000_0000_000000000001") == 2  # the same id everywhere it is used
    assert "{00000000-0000-0000-0000-000000000002}" in out
    assert out.index('id="a"') < out.index('id="b"')
    assert stable_qgs(out) == out


def test_repack_names_the_project_after_the_file_and_dates_entries_1980(tmp_path):
    paths = []
    for i, xml in enumerate([QGS, QGS.replace("2026-01-02T03:04:05", "2027-05-06T07:08:09")]):
        p = tmp_path / f"{i}.qgz"
        with zipfile.ZipFile(p, "w") as z:
            z.writestr(".tmp.qgs", xml)
        repack_qgz(p, "risk")
        paths.append(p)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    with zipfile.ZipFile(paths[0]) as z:
        assert z.namelist() == ["risk.qgs"] and z.infolist()[0].date_time == (1980, 1, 1, 0, 0, 0)
