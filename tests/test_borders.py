"""National borders: capitals in their nations, the territorial sea with its nation and the
high seas in none, distances to borders."""

import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pytest
import shapely

from skywarden import geo
from skywarden.airspace import Borders, load_borders, load_land

B = load_borders()

PLACES = {  # name: (lat, lon, nation)
    "Warsaw": (52.2297, 21.0122, "POL"),
    "Vilnius": (54.6872, 25.2797, "LTU"),
    "Minsk": (53.9006, 27.5590, "BLR"),
    "Kyiv": (50.4501, 30.5234, "UKR"),
    "Riga": (56.9496, 24.1052, "LVA"),
    "Tallinn": (59.4370, 24.7536, "EST"),
    "Helsinki": (60.1699, 24.9384, "FIN"),
    "Chisinau": (47.0105, 28.8638, "MDA"),
    "Bucharest": (44.4268, 26.1025, "ROU"),
    "Kaliningrad": (54.7104, 20.4522, "RUS"),
    "Pristina": (42.6629, 21.1655, "XKX"),
    # the places the repaired Russian clipping artefact used to claim
    "Kiruna": (67.8558, 20.2253, "SWE"),
    "Rovaniemi": (66.5039, 25.7294, "FIN"),
    "Mo i Rana": (66.3128, 14.1428, "NOR"),
    "Murmansk": (68.9585, 33.0827, "RUS"),
    "Kandalaksha": (67.1567, 32.4117, "RUS"),
    # Crimea with Ukraine, Aland with Finland (see the data file's metadata.repairs)
    "Simferopol": (44.9521, 34.1024, "UKR"),
    "Mariehamn": (60.0973, 19.9348, "FIN"),
}


def test_places_are_in_their_nations():
    lat = np.array([v[0] for v in PLACES.values()])
    lon = np.array([v[1] for v in PLACES.values()])
    got = B.nation_at(lat, lon)
    assert dict(zip(PLACES, got, strict=True)) == {k: v[2] for k, v in PLACES.items()}


def test_high_seas_and_outside_the_data_are_no_nation():
    # the Baltic between Gotland and Latvia, the Black Sea, the Barents Sea, Paris
    got = B.nation_at([56.5, 43.5, 71.2, 48.8566], [19.5, 34.0, 30.0, 2.3522])
    assert got.tolist() == ["", "", "", ""]
    assert B.covers([56.5, 48.8566], [19.5, 2.3522]).tolist() == [True, False]


def test_nation_at_keeps_shape_and_wraps_longitude():
    lat = np.full((2, 3), 52.2297)
    lon = np.full((2, 3), 21.0122 + 360.0)  # records allow lon up to 360
    got = B.nation_at(lat, lon)
    assert got.shape == (2, 3)
    assert (got == "POL").all()
    assert B.nation_at(52.2297, 21.0122).shape == ()


def test_lookup_grid_agrees_with_exact_point_in_polygon():
    rng = np.random.default_rng(11)
    lat = rng.uniform(40.0, 72.0, 5000)
    lon = rng.uniform(10.0, 45.0, 5000)
    exact = np.full(lat.size, "", dtype="<U3")
    for code in B.codes:
        exact[shapely.contains_xy(B.geometry(code), lon, lat)] = code
    assert (B.nation_at(lat, lon) == exact).all()


def test_codes_names_and_geometry():
    assert len(set(B.codes)) == len(B.codes) == 35
    assert all(len(c) == 3 and c.isalpha() and c.isupper() for c in B.codes)
    assert {"POL", "LTU", "LVA", "EST", "FIN", "BLR", "UKR", "RUS", "ROU", "MDA"} <= set(B.codes)
    assert "ALA" not in B.codes
    assert B.name("POL") == "Poland"
    assert B.name("MKD") == "North Macedonia"
    assert B.geometry("LTU").contains(shapely.Point(25.2797, 54.6872))
    assert B.bbox == (10.0, 40.0, 45.0, 72.0)
    with pytest.raises(KeyError):
        B.name("XXX")


def test_nations_do_not_overlap():
    for a, b in itertools.combinations(B.codes, 2):
        assert B.geometry(a).intersection(B.geometry(b)).area < 1e-5, (a, b)


def test_distance_to_border_near_terespol_is_small():
    # Terespol lies on the Bug, the Polish-Belarusian border, ~1.5 km from the river line
    d = B.distance_to_border(52.0755, 23.6170)
    assert 300.0 < float(d) < 3000.0
    # Brest is on the other bank, in Belarus, a few km from the line
    assert B.nation_at(52.0976, 23.7341) == "BLR"
    assert float(B.distance_to_border(52.0976, 23.7341)) < 10_000.0


def test_distance_is_zero_on_a_border_vertex():
    lon, lat = shapely.get_coordinates(shapely.get_parts(load_land().geometry("LTU"))[0].exterior)[100]
    assert float(B.distance_to_border(lat, lon)) < 1.0


def test_distance_to_a_named_nation():
    # Kaliningrad city to the Polish border: about 33 km due south
    assert 25_000.0 < float(B.distance_to_border(54.7104, 20.4522, "POL")) < 40_000.0
    # Vilnius is ~30 km from Belarus but ~130 km from Poland
    vilnius = (54.6872, 25.2797)
    assert float(B.distance_to_border(*vilnius)) < 40_000.0
    assert 110_000.0 < float(B.distance_to_border(*vilnius, "POL")) < 150_000.0
    with pytest.raises(KeyError):
        B.distance_to_border(*vilnius, "XXX")


def test_edges_of_the_clip_box_are_not_borders():
    # Germany is cut at 10 E; a point just inside that cut is far from any real border
    assert B.nation_at(50.5, 10.001) == "DEU"
    assert float(B.distance_to_border(50.5, 10.001)) > 50_000.0


def test_distance_never_exceeds_the_nearest_vertex():
    rng = np.random.default_rng(5)
    lat = rng.uniform(50.0, 56.0, 40)
    lon = rng.uniform(20.0, 28.0, 40)
    verts = np.concatenate(
        [shapely.get_coordinates(B.geometry(c)) for c in ("POL", "LTU", "BLR", "LVA", "UKR")]
    )
    inner = (verts[:, 0] > 10.0) & (verts[:, 0] < 45.0)
    vlon, vlat = verts[inner, 0], verts[inner, 1]
    got = B.distance_to_border(lat, lon)
    for k in range(lat.size):
        nearest_vertex = geo.distance(lat[k], lon[k], vlat, vlon).min()
        assert got[k] <= nearest_vertex + 1.0
        assert got[k] >= 0.0


def test_from_geojson_rejects_bad_codes():
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    doc = {"type": "FeatureCollection",
           "features": [{"type": "Feature", "geometry": square,
                         "properties": {"iso_a3": "-99", "name": "Nowhere"}}]}
    with pytest.raises(ValueError, match="alpha-3"):
        Borders.from_geojson(doc)
    doc["features"][0]["properties"]["iso_a3"] = "NWH"
    own = Borders.from_geojson(doc)
    assert own.nation_at(0.5, 0.5) == "NWH"
    assert own.nation_at(1.5, 0.5) == ""
    # without a clip box every edge is a border: the centre is ~55 km from the edges
    assert float(own.distance_to_border(0.5, 0.5)) == pytest.approx(55_300.0, rel=0.01)


def test_missing_positions_give_no_nation_and_no_distance():
    assert B.nation_at([np.nan], [21.0]).tolist() == [""]
    d = B.distance_to_border([np.nan, 52.2297], [21.0, 21.0122])
    assert np.isnan(d[0]) and d[1] > 100_000.0


NM = 1852.0


def test_the_territorial_sea_is_the_nearest_nations_to_12_nautical_miles():
    # points over the sea on the land data, measured from the nearest coast of each nation
    land = load_land()
    rng = np.random.default_rng(9)
    lat, lon = rng.uniform(41.0, 71.0, 60_000), rng.uniform(11.0, 44.0, 60_000)
    sea = land.nation_at(lat, lon) == ""
    lat, lon = lat[sea], lon[sea]
    coastal = [c for c in B.codes if B.geometry(c).area > land.geometry(c).area * 1.001]
    d = np.column_stack([land.distance_to_border(lat, lon, c) for c in coastal])
    order = np.sort(d, axis=1)
    nearest = np.array(coastal)[np.argmin(d, axis=1)]
    got = B.nation_at(lat, lon)
    # the plane the sea was built in is exact to 1.4 %: 0.5 NM either side is clear
    within = order[:, 0] < 11.5 * NM
    beyond = order[:, 0] > 12.5 * NM
    clear = order[:, 1] - order[:, 0] > 2_000.0  # not near a median line
    second = np.array(coastal)[np.argsort(d, axis=1)[:, 1]]
    estonia_finland = ((nearest == "EST") & (second == "FIN")) | (
        (nearest == "FIN") & (second == "EST"))
    clear &= ~(estonia_finland & (order[:, 1] - order[:, 0] < 6.5 * NM))  # the corridor
    assert within.sum() > 300 and beyond.sum() > 300
    assert (got[within & clear] == nearest[within & clear]).all()
    # beyond 12 NM only the pockets a nation's sea wraps around (under 24 NM across)
    assert (got[order[:, 0] > 24.5 * NM] == "").all()
    assert (got[beyond] == "").mean() > 0.9


def test_a_pocket_of_high_sea_inside_a_nations_sea_is_the_nations():
    # the Gulf of Odesa: more than 12 NM from its coasts, but wrapped by Ukraine's sea
    land = load_land()
    lat, lon = 46.30, 31.12
    assert land.distance_to_border(lat, lon, "UKR") > 12.5 * NM
    assert B.nation_at(lat, lon) == "UKR"


def test_seas_between_neighbours_are_split_on_the_median_line():
    # the Oresund between Copenhagen and Malmo (about 20 km across): each side's water is
    # its own; the Danube's mouth between Romania and Ukraine; Estonia's and Finland's
    # seas in the Gulf of Finland, with the high seas between them off Helsinki
    lat = [55.62, 55.58, 45.25, 45.15, 59.85, 60.05, 59.70]
    lon = [12.70, 12.90, 29.85, 29.85, 24.90, 24.90, 24.90]
    got = B.nation_at(lat, lon).tolist()
    assert got == ["DNK", "SWE", "UKR", "ROU", "", "FIN", "EST"]


def test_estonia_and_finland_leave_a_corridor_in_the_gulf_of_finland():
    # each stops 3 NM short of the median line, 6 NM of high sea between them, where
    # their 12 NM would reach it: between Tallinn and Helsinki
    lat = np.array([59.70, 59.80, 59.90])
    assert B.nation_at(lat, np.full(3, 24.5)).tolist() == ["EST", "", "FIN"]
    la = np.linspace(59.6, 60.0, 2001)
    gap = la[B.nation_at(la, np.full(la.size, 24.5)) == ""]
    width_nm = geo.distance(gap[0], 24.5, gap[-1], 24.5) / NM
    assert 5.5 < width_nm < 6.5


def test_airspace_keeps_the_land_and_nations_never_overlap():
    land = load_land()
    assert land.codes == B.codes and land.bbox == B.bbox
    rng = np.random.default_rng(4)
    lat, lon = rng.uniform(40.0, 72.0, 200_000), rng.uniform(10.0, 45.0, 200_000)
    on_land = land.nation_at(lat, lon)
    ours = B.nation_at(lat, lon)
    assert (ours[on_land != ""] == on_land[on_land != ""]).all()  # land as it was
    gained = (on_land == "") & (ours != "")
    assert 0.02 < gained.mean() < 0.2  # some sea, not all of it
    geoms = np.array([B.geometry(c) for c in B.codes], dtype=object)
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = [(i, j) for i, j in zip(a.tolist(), b.tolist(), strict=True) if i < j]
    assert pairs  # neighbours touch
    overlap = max(shapely.area(shapely.intersection(geoms[i], geoms[j])) for i, j in pairs)
    assert overlap < 1e-6  # deg2: touching, not overlapping (beyond the 1e-5 deg snap)


def test_the_shipped_airspace_is_what_its_script_builds(tmp_path):
    # data/airspace-europe.geojson is built from the shipped land by
    # scripts/territorial_sea.py: rebuilding it gives the same nations' airspace (to
    # within what another GEOS version may round differently)
    spec = importlib.util.spec_from_file_location(
        "territorial_sea", Path(__file__).parent.parent / "scripts" / "territorial_sea.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "airspace.geojson"
    script.main(script.LAND, out)
    rebuilt = Borders.from_geojson(out.read_text())
    assert rebuilt.codes == B.codes
    for code in B.codes:
        ours, again = B.geometry(code), rebuilt.geometry(code)
        differ = shapely.area(shapely.symmetric_difference(ours, again))
        assert differ <= 1e-4 * shapely.area(ours), code
