import type { Prng } from '../prng.js';
import { hsv, type Rgb, setColour } from './raster.js';

/**
 * The five items of the study's waste-sorting task (material x category), as seen from above
 * lying on a belt: a side silhouette (half-width as a function of the position along the item's
 * axis) and a material (how a point of the item is coloured). Colours deliberately overlap
 * between classes (printed labels of any hue on every kind of item), so colour alone does not
 * tell the class; silhouette, transparency, highlights and texture do.
 */
export const SYNTHETIC_CLASS_NAMES = ['pet_bottle', 'glass_bottle', 'aluminium_can', 'steel_can', 'carton'] as const;
export type SyntheticClassName = (typeof SYNTHETIC_CLASS_NAMES)[number];

export interface ItemModel {
  /** Half the item's length, in image widths. */
  halfLength: number;
  /** Largest half-width divided by half-length. */
  aspect: number;
  /** Half-width relative to the largest, at u in [-1 (bottom), 1 (top)]; 0 outside the item. */
  profile(u: number): number;
  /**
   * Colour at (u, s), s = across position in [-1, 1] relative to the local half-width;
   * returns alpha (glass and PET let the belt show through).
   */
  material(u: number, s: number, out: Float32Array): number;
}

const smooth = (t: number): number => (t <= 0 ? 0 : t >= 1 ? 1 : t * t * (3 - 2 * t));
const lerp = (a: number, b: number, t: number): number => a + (b - a) * t;

/** Brightness across a lit cylinder: dark at the silhouette, plus a specular stripe at s0. */
function cylinder(s: number, s0: number, specular: number, width: number): { shade: number; highlight: number } {
  const shade = 0.45 + 0.55 * Math.sqrt(Math.max(0, 1 - s * s));
  const d = (s - s0) / width;
  return { shade, highlight: specular * Math.exp(-d * d) };
}

function randomPrint(prng: Prng): Rgb {
  return hsv(prng.next(), prng.uniform(0.3, 1), prng.uniform(0.35, 1));
}

function petBottle(prng: Prng): ItemModel {
  const tint = prng.pick<Rgb>([
    [205, 220, 230],
    [150, 200, 235],
    [130, 205, 150],
    [215, 215, 205],
  ]);
  const alpha = prng.uniform(0.3, 0.5);
  const cap = randomPrint(prng);
  const shoulder = prng.uniform(0.25, 0.45);
  const neck = prng.uniform(0.32, 0.42);
  const ribs = prng.uniform(10, 18);
  const label =
    prng.next() < 0.55
      ? { colour: randomPrint(prng), from: prng.uniform(-0.45, -0.1), to: prng.uniform(0.0, 0.2) }
      : undefined;
  const s0 = prng.uniform(-0.6, 0.6);
  return {
    halfLength: prng.uniform(0.3, 0.42),
    aspect: prng.uniform(0.3, 0.4),
    profile: (u) => {
      if (u < -1 || u > 1) return 0;
      if (u < -0.92) return 0.8 + 0.2 * smooth((u + 1) / 0.08);
      if (u < shoulder) return 1;
      if (u < 0.72) return lerp(1, neck, smooth((u - shoulder) / (0.72 - shoulder)));
      if (u < 0.8) return neck;
      return neck * 1.25;
    },
    material: (u, s, out) => {
      if (u >= 0.8) {
        const { shade } = cylinder(s, s0, 0, 1);
        setColour(out, cap, shade);
        return 1;
      }
      const { shade, highlight } = cylinder(s, s0, 120, 0.18);
      if (label && u > label.from && u < label.to) {
        setColour(out, label.colour, shade, highlight * 0.3);
        return 1;
      }
      // Ribs of the moulded body: a periodic lighter band along the axis.
      const rib = u < shoulder ? 0.12 * Math.max(0, Math.sin(u * ribs * Math.PI)) : 0;
      setColour(out, tint, shade * (1 + rib), highlight);
      return Math.min(1, alpha + 0.35 * Math.abs(s) ** 4 + highlight / 255);
    },
  };
}

function glassBottle(prng: Prng): ItemModel {
  const glass = prng.pick<Rgb>([
    [45, 115, 55],
    [105, 60, 25],
    [185, 205, 195],
    [40, 70, 140],
    [80, 40, 20],
  ]);
  const alpha = prng.uniform(0.82, 0.97);
  const capColour =
    prng.next() < 0.5
      ? prng.pick<Rgb>([
          [200, 170, 60],
          [175, 175, 180],
        ])
      : undefined;
  const shoulder = prng.uniform(0.0, 0.2);
  const neckStart = shoulder + prng.uniform(0.2, 0.3);
  const neck = prng.uniform(0.26, 0.34);
  const label =
    prng.next() < 0.6
      ? { colour: randomPrint(prng), from: prng.uniform(-0.7, -0.35), to: prng.uniform(-0.25, shoulder) }
      : undefined;
  const s0 = prng.uniform(-0.6, 0.6);
  return {
    halfLength: prng.uniform(0.32, 0.44),
    aspect: prng.uniform(0.26, 0.34),
    profile: (u) => {
      if (u < -1 || u > 1) return 0;
      if (u < -0.95) return 0.9;
      if (u < shoulder) return 1;
      if (u < neckStart) return lerp(1, neck, smooth((u - shoulder) / (neckStart - shoulder)));
      if (u < 0.92) return neck;
      return neck * 1.2;
    },
    material: (u, s, out) => {
      const { shade, highlight } = cylinder(s, s0, 170, 0.1);
      if (u >= 0.92 && capColour) {
        setColour(out, capColour, shade, highlight * 0.5);
        return 1;
      }
      if (label && u > label.from && u < label.to) {
        setColour(out, label.colour, shade * 0.95, 0);
        return 1;
      }
      setColour(out, glass, shade * 0.85, highlight);
      return Math.min(1, alpha + highlight / 255);
    },
  };
}

function aluminiumCan(prng: Prng): ItemModel {
  const hue = prng.next();
  const print = hsv(hue, prng.uniform(0.5, 1), prng.uniform(0.5, 1));
  // The second colour sits across the colour wheel, so the print always shows two colours.
  const second = hsv(hue + prng.uniform(0.25, 0.75), prng.uniform(0.4, 1), prng.uniform(0.6, 1));
  const stripes = prng.uniform(2, 4.5);
  const phase = prng.next() * Math.PI * 2;
  const silver: Rgb = [195, 197, 202];
  const s0 = prng.uniform(-0.5, 0.5);
  const slim = prng.next() < 0.3;
  return {
    halfLength: prng.uniform(0.2, 0.3),
    aspect: slim ? prng.uniform(0.4, 0.48) : prng.uniform(0.5, 0.6),
    profile: (u) => {
      if (u < -1 || u > 1) return 0;
      if (u < -0.9) return 0.82 + 0.18 * smooth((u + 1) / 0.1);
      if (u < 0.78) return 1;
      if (u < 0.9) return lerp(1, 0.84, smooth((u - 0.78) / 0.12));
      return 0.84;
    },
    material: (u, s, out) => {
      const { shade, highlight } = cylinder(s, s0, 220, 0.1);
      if (u < -0.9 || u > 0.78) {
        setColour(out, silver, shade, highlight);
        return 1;
      }
      // Printed aluminium: two colours in a wave, with the metal's sharp highlight on top.
      const mix = Math.sin(u * stripes * Math.PI + s * 1.5 + phase) > 0.2 ? 1 : 0;
      setColour(out, mix ? print : second, shade, highlight);
      return 1;
    },
  };
}

function steelCan(prng: Prng): ItemModel {
  const metal: Rgb = prng.pick<Rgb>([
    [160, 160, 165],
    [175, 170, 160],
    [140, 145, 150],
  ]);
  const label = prng.next() < 0.6 ? hsv(prng.next(), prng.uniform(0.15, 0.8), prng.uniform(0.45, 0.95)) : undefined;
  const ribs = prng.uniform(6, 11);
  const s0 = prng.uniform(-0.5, 0.5);
  return {
    halfLength: prng.uniform(0.18, 0.28),
    aspect: prng.uniform(0.68, 0.95),
    profile: (u) => {
      if (u < -1 || u > 1) return 0;
      return Math.abs(u) > 0.9 ? 1.06 : 1;
    },
    material: (u, s, out) => {
      const { shade, highlight } = cylinder(s, s0, 70, 0.25);
      // Rolled beads around the body: dark/light rings the whole length of the can.
      const rib = 1 + 0.22 * Math.sin(u * ribs * Math.PI);
      if (label && Math.abs(u) < 0.75) {
        setColour(out, label, shade * (0.85 + 0.15 * rib), 0);
        return 1;
      }
      const rim = Math.abs(u) > 0.9 ? 0.75 : rib;
      setColour(out, metal, shade * rim, highlight);
      return 1;
    },
  };
}

function carton(prng: Prng): ItemModel {
  const base = hsv(prng.next(), prng.uniform(0, 0.7), prng.uniform(0.6, 1));
  const print = randomPrint(prng);
  const printFrom = prng.uniform(-0.8, -0.3);
  const printTo = prng.uniform(0, 0.5);
  const faceShade = prng.uniform(0.72, 0.92);
  const edge = prng.uniform(-0.3, 0.3);
  const gable = prng.uniform(0.55, 0.68);
  return {
    halfLength: prng.uniform(0.26, 0.4),
    aspect: prng.uniform(0.32, 0.46),
    profile: (u) => {
      if (u < -1 || u > 1) return 0;
      if (u < gable) return 1;
      if (u < 0.88) return lerp(1, 0.2, (u - gable) / (0.88 - gable));
      return 0.75;
    },
    material: (u, s, out) => {
      // Two flat faces of a box meeting at a vertical edge: flat shading, no highlight.
      const face = s < edge ? faceShade : 1;
      const crease = Math.abs(s - edge) < 0.05 ? 0.8 : 1;
      if (u >= 0.88) {
        setColour(out, base, 0.85);
        return 1;
      }
      if (u >= gable) {
        setColour(out, base, face * 0.8 * crease);
        return 1;
      }
      const colour = u > printFrom && u < printTo && Math.abs(s) < 0.85 ? print : base;
      setColour(out, colour, face * crease);
      return 1;
    },
  };
}

const FACTORIES: Record<SyntheticClassName, (prng: Prng) => ItemModel> = {
  pet_bottle: petBottle,
  glass_bottle: glassBottle,
  aluminium_can: aluminiumCan,
  steel_can: steelCan,
  carton,
};

export function createItem(className: SyntheticClassName, prng: Prng): ItemModel {
  return FACTORIES[className](prng);
}
