// The base map: a dark style with no tiles, country borders, the limits of national airspace
// over the sea (12 NM) and zones as GeoJSON sources.
// Everything is served by Skywarden itself (no tile server, no CDN, no glyphs).

const EMPTY = { type: "FeatureCollection", features: [] };

// Zone colours by type (docs/AIRSPACE.md); temporary restrictions made here are magenta.
const ZONE_COLOR = [
  "match", ["get", "type"],
  "prohibited", "#ef4d55",
  "restricted", "#c9609a",
  "border_buffer", "#c9609a",
  "danger", "#e3c04a",
  "critical_site", "#ef7d4d",
  "airport", "#5fb3e6",
  "#7f8e9c",
];

export function createMap(container) {
  const map = new maplibregl.Map({
    container,
    style: {
      version: 8,
      sources: {
        borders: { type: "geojson", data: EMPTY, attribution: "Borders: Natural Earth" },
        airspace: { type: "geojson", data: EMPTY },
        zones: { type: "geojson", data: EMPTY },
      },
      layers: [
        { id: "background", type: "background", paint: { "background-color": "#070b10" } },
        {
          id: "land", type: "fill", source: "borders",
          paint: { "fill-color": "#141f2a", "fill-antialias": true },
        },
        {
          id: "borders", type: "line", source: "borders",
          paint: { "line-color": "#5d7a94", "line-width": ["interpolate", ["linear"], ["zoom"], 4, 1, 9, 2] },
        },
        {
          // where national airspace ends over the sea; over land it runs along the borders
          id: "airspace-limits", type: "line", source: "airspace",
          paint: { "line-color": "#5d7a94", "line-width": 1, "line-opacity": 0.7, "line-dasharray": [4, 3] },
        },
        {
          id: "zones-fill", type: "fill", source: "zones",
          paint: { "fill-color": ZONE_COLOR, "fill-opacity": 0.06 },
        },
        {
          id: "zones-line", type: "line", source: "zones",
          paint: { "line-color": ZONE_COLOR, "line-width": 1.4, "line-opacity": 0.85, "line-dasharray": [3, 2] },
        },
      ],
    },
    center: [23.0, 52.0],
    zoom: 5.3,
    minZoom: 2,
    maxZoom: 14,
    attributionControl: { compact: true },
    dragRotate: false,
    pitchWithRotate: false,
    fadeDuration: 0,
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-left");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
  return map;
}

export function whenLoaded(map) {
  return map.loaded() ? Promise.resolve() : new Promise((resolve) => map.once("load", resolve));
}

export async function loadBorders(map) {
  const [land, airspace] = await Promise.all(
    ["/api/v1/borders.geojson", "/api/v1/airspace.geojson"].map(async (path) => {
      const response = await fetch(path);
      if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
      return response.json();
    }),
  );
  map.getSource("borders").setData(land);
  map.getSource("airspace").setData(airspace);
}

export async function loadZones(map, api) {
  const zones = await api.get("/api/v1/zones");
  map.getSource("zones").setData(zones && zones.features ? zones : EMPTY);
  return zones;
}
