// Country outlines of the Americas as SVG paths, precomputed from Natural Earth (world-atlas, 1:50m).
// Run by `make assets`: node assets/americas.mjs OUT.json
// Countries: the UN M49 region "Americas" (019), keyed by ISO 3166-1 alpha-2; the projection is
// Miller cylindrical, cropped to 172°W–25°W and 57°S–74°N, in a 1000-unit-wide box.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { feature } from "topojson-client";

const require = createRequire(import.meta.url);
const topology = JSON.parse(readFileSync(require.resolve("world-atlas/countries-50m.json"), "utf8"));

// ISO 3166-1 numeric -> alpha-2, every country and territory of M49 region 019.
const AMERICAS = {
  "660": "AI", "028": "AG", "533": "AW", "044": "BS", "052": "BB", "535": "BQ", "092": "VG", "136": "KY",
  "192": "CU", "531": "CW", "212": "DM", "214": "DO", "308": "GD", "312": "GP", "332": "HT", "388": "JM",
  "474": "MQ", "500": "MS", "630": "PR", "652": "BL", "659": "KN", "662": "LC", "663": "MF", "670": "VC",
  "534": "SX", "780": "TT", "796": "TC", "850": "VI", "084": "BZ", "188": "CR", "222": "SV", "320": "GT",
  "340": "HN", "484": "MX", "558": "NI", "591": "PA", "032": "AR", "068": "BO", "076": "BR", "152": "CL",
  "170": "CO", "218": "EC", "238": "FK", "254": "GF", "328": "GY", "600": "PY", "604": "PE", "239": "GS",
  "740": "SR", "858": "UY", "862": "VE", "060": "BM", "124": "CA", "304": "GL", "666": "PM", "840": "US",
};
const WEST = -172, EAST = -25, SOUTH = -57, NORTH = 74, WIDTH = 1000;
const miller = (lat) => 1.25 * Math.log(Math.tan(Math.PI / 4 + (0.4 * lat * Math.PI) / 180));
const scale = WIDTH / (EAST - WEST);
const top = miller(NORTH) * (180 / Math.PI) * scale;
const height = Math.round(top - miller(SOUTH) * (180 / Math.PI) * scale);
const project = ([lon, lat]) => [
  Math.round((lon - WEST) * scale * 10) / 10,
  Math.round((top - miller(Math.max(-85, Math.min(85, lat))) * (180 / Math.PI) * scale) * 10) / 10,
];

function ringPath(ring) {
  if (ring.every(([lon]) => lon > 0)) return ""; // the Aleutians west of the antimeridian
  const points = [];
  let last = null;
  for (const coordinate of ring) {
    const point = project(coordinate);
    if (last && Math.abs(point[0] - last[0]) < 1 && Math.abs(point[1] - last[1]) < 1) continue;
    points.push(point);
    last = point;
  }
  if (points.length < 3) return "";
  return "M" + points.map((p) => p.join(",")).join("L") + "Z";
}

const countries = [];
for (const f of feature(topology, topology.objects.countries).features) {
  const code = AMERICAS[f.id];
  if (!code || !f.geometry) continue;
  const polygons = f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.coordinates;
  let d = polygons.flatMap((polygon) => polygon.map(ringPath)).join("");
  if (!d) {
    // an island too small to draw at this scale still gets a visible mark
    const [x, y] = project(polygons[0][0][0]);
    d = `M${x - 2},${y}L${x},${y - 2}L${x + 2},${y}L${x},${y + 2}Z`;
  }
  countries.push({ code, name: f.properties.name, d });
}
countries.sort((a, b) => a.code.localeCompare(b.code));
const out = {
  source: "Natural Earth 1:50m via world-atlas 2.0.2 (public domain); Miller projection",
  width: WIDTH, height, countries,
};
writeFileSync(process.argv[2], JSON.stringify(out));
console.log(`${countries.length} countries of the Americas -> ${process.argv[2]}`);
