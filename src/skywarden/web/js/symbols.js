// APP-6 / MIL-STD-2525 air symbols from milsymbol, one image per (identity, class), added
// to the map once and shared by every track with that combination.

const IDENTITY_CODE = {
  pending: "P", unknown: "U", assumed_friend: "A", friend: "F",
  neutral: "N", suspect: "S", hostile: "H",
};

// Air function ids (2525C letter codes). The military variants for every identity: the
// civilian ones would fill the frame purple and hide the identity's colour.
const FUNCTION = {
  drone: "MFQ---",
  aircraft: "MF----",
  helicopter: "MH----",
  missile: "WM----",
  balloon: "ML----",
};

export const IDENTITIES = Object.keys(IDENTITY_CODE);
export const CLASSES = [...Object.keys(FUNCTION), "unknown"];

function normal(identity, cls) {
  return [IDENTITY_CODE[identity] ? identity : "unknown", FUNCTION[cls] ? cls : "unknown"];
}

// 15-character letter SIDC: standard identity, air, present, function id.
export function sidc(identity, cls) {
  const [id, c] = normal(identity, cls);
  return `S${IDENTITY_CODE[id]}AP${FUNCTION[c] || "------"}-----`;
}

export function imageName(identity, cls) {
  const [id, c] = normal(identity, cls);
  return `sym-${id}-${c}`;
}

// Draw one symbol onto a canvas whose centre is the symbol's anchor (so icon-anchor
// "center" puts the frame's centre on the track's position).
function symbolImage(code, size, ratio) {
  const symbol = new ms.Symbol(code, { size, outlineWidth: 2, outlineColor: "rgba(0,0,0,0.8)" });
  const canvas = symbol.asCanvas(ratio);
  const anchor = symbol.getAnchor();
  const box = symbol.getSize();
  const halfW = Math.max(anchor.x, box.width - anchor.x) * ratio;
  const halfH = Math.max(anchor.y, box.height - anchor.y) * ratio;
  const out = document.createElement("canvas");
  out.width = Math.ceil(2 * halfW);
  out.height = Math.ceil(2 * halfH);
  const ctx = out.getContext("2d");
  ctx.drawImage(canvas, halfW - anchor.x * ratio, halfH - anchor.y * ratio);
  return ctx.getImageData(0, 0, out.width, out.height);
}

// Add every combination up front: 7 identities x 6 classes = 42 small images.
export function addSymbolImages(map, size = 16) {
  const ratio = Math.max(1, Math.min(2, window.devicePixelRatio || 1));
  for (const identity of IDENTITIES) {
    for (const cls of CLASSES) {
      const name = imageName(identity, cls);
      if (!map.hasImage(name)) {
        map.addImage(name, symbolImage(sidc(identity, cls), size, ratio), { pixelRatio: ratio });
      }
    }
  }
}

// Draw order: threats on top.
export const IDENTITY_RANK = {
  hostile: 6, suspect: 5, unknown: 4, pending: 3, neutral: 2, assumed_friend: 1, friend: 0,
};
