import type { Prng } from '../prng.js';
import { createItem, type ItemModel, type SyntheticClassName } from './objects.js';
import { boundsAround, type Canvas, hsv, modulate, paint, type Rgb, setColour } from './raster.js';

/** Knobs of a scene that a shifted data distribution (another camera, other lamps) changes. */
export interface SceneConditions {
  /** Overall brightness factor range. */
  brightness: readonly [number, number];
  /** Largest brightness change across the image from the lighting gradient. */
  gradient: number;
  /** Range of the standard deviation of per-pixel sensor noise, in 0..255 units. */
  noise: readonly [number, number];
  /** Range of the number of clutter scraps on the belt. */
  clutter: readonly [number, number];
  /** Range of a clutter scrap's half-length, in image widths. */
  clutterSize: readonly [number, number];
  /** Range of the belt's grey level (0..255) before lighting. */
  belt: readonly [number, number];
}

export const DEFAULT_SCENE_CONDITIONS: SceneConditions = {
  brightness: [0.75, 1.2],
  gradient: 0.5,
  noise: [2, 9],
  clutter: [2, 7],
  clutterSize: [0.02, 0.12],
  belt: [50, 150],
};

function belt(canvas: Canvas, prng: Prng, range: readonly [number, number]): void {
  const grey = prng.uniform(range[0], range[1]);
  const tint: Rgb = [grey * prng.uniform(0.9, 1.1), grey * prng.uniform(0.9, 1.1), grey * prng.uniform(0.9, 1.1)];
  // Belt texture: faint stripes along the running direction plus a slow wave of dirt.
  const angle = prng.next() * Math.PI;
  const [ca, sa] = [Math.cos(angle), Math.sin(angle)];
  const stripes = prng.uniform(12, 30);
  const stripeDepth = prng.uniform(0, 0.1);
  const wave = prng.uniform(1, 4);
  const wavePhase = prng.next() * Math.PI * 2;
  paint(canvas, (x, y, out) => {
    const along = x * ca + y * sa;
    const across = -x * sa + y * ca;
    const shade =
      1 + stripeDepth * Math.sin(across * stripes * Math.PI * 2) + 0.08 * Math.sin(along * wave * 6 + wavePhase);
    setColour(out, tint, shade);
    return 1;
  });
}

/** Scraps of paper, foil and dirt: ellipses, slivers and strokes of any colour. */
function clutter(canvas: Canvas, prng: Prng, count: number, size: readonly [number, number]): void {
  for (let k = 0; k < count; k++) {
    const colour = hsv(prng.next(), prng.uniform(0, 0.9), prng.uniform(0.2, 1));
    const cx = prng.next();
    const cy = prng.next();
    const angle = prng.next() * Math.PI;
    const [ca, sa] = [Math.cos(angle), Math.sin(angle)];
    const a = prng.uniform(size[0], size[1]);
    const b = a * prng.uniform(0.1, 1);
    const ellipse = prng.next() < 0.5;
    const alpha = prng.uniform(0.5, 1);
    paint(
      canvas,
      (x, y, out) => {
        const dx = x - cx;
        const dy = y - cy;
        const u = (dx * ca + dy * sa) / a;
        const v = (-dx * sa + dy * ca) / b;
        const inside = ellipse ? u * u + v * v <= 1 : Math.abs(u) <= 1 && Math.abs(v) <= 1;
        if (!inside) return 0;
        setColour(out, colour, 1 - 0.2 * Math.abs(v));
        return alpha;
      },
      boundsAround(cx, cy, a),
    );
  }
}

interface Pose {
  cx: number;
  cy: number;
  cos: number;
  sin: number;
}

/** Maps an image point to the item's (u along the axis, s across) or undefined when outside. */
function itemCoordinates(item: ItemModel, pose: Pose, x: number, y: number): { u: number; s: number } | undefined {
  const dx = x - pose.cx;
  const dy = y - pose.cy;
  const u = (dx * pose.cos + dy * pose.sin) / item.halfLength;
  const v = (-dx * pose.sin + dy * pose.cos) / item.halfLength;
  const half = item.profile(u) * item.aspect;
  if (half <= 0 || Math.abs(v) > half) return undefined;
  return { u, s: v / half };
}

/** Renders one item of `className` on a belt into `canvas`. */
export function renderScene(
  canvas: Canvas,
  className: SyntheticClassName,
  prng: Prng,
  conditions: SceneConditions,
): void {
  belt(canvas, prng, conditions.belt);
  const [clutterMin, clutterMax] = conditions.clutter;
  clutter(canvas, prng, clutterMin + prng.int(clutterMax - clutterMin + 1), conditions.clutterSize);

  const item = createItem(className, prng);
  // Items on a running belt settle roughly along its direction: one of the four axis
  // directions (either end first, belt either way across the camera) within ±25°.
  const angle = (prng.int(4) * Math.PI) / 2 + prng.uniform(-1, 1) * ((25 * Math.PI) / 180);
  const pose: Pose = {
    cx: prng.uniform(0.36, 0.64),
    cy: prng.uniform(0.36, 0.64),
    cos: Math.cos(angle),
    sin: Math.sin(angle),
  };
  const reach = item.halfLength * 1.05;

  // A soft shadow cast away from the lamp, then the item itself.
  const shadow = { dx: prng.uniform(-0.035, 0.035), dy: prng.uniform(-0.035, 0.035), depth: prng.uniform(0.2, 0.45) };
  const black = new Float32Array(3);
  paint(
    canvas,
    (x, y, out) => {
      if (!itemCoordinates(item, pose, x - shadow.dx, y - shadow.dy)) return 0;
      out.set(black);
      return shadow.depth;
    },
    boundsAround(pose.cx + shadow.dx, pose.cy + shadow.dy, reach),
  );
  paint(
    canvas,
    (x, y, out) => {
      const at = itemCoordinates(item, pose, x, y);
      return at ? item.material(at.u, at.s, out) : 0;
    },
    boundsAround(pose.cx, pose.cy, reach),
  );
  // Now and then a scrap lies across the item.
  if (prng.next() < 0.1) clutter(canvas, prng, 1, conditions.clutterSize);

  const brightness = prng.uniform(conditions.brightness[0], conditions.brightness[1]);
  const lightAngle = prng.next() * Math.PI * 2;
  const gradient = prng.uniform(0, conditions.gradient);
  const [lx, ly] = [Math.cos(lightAngle) * gradient, Math.sin(lightAngle) * gradient];
  modulate(canvas, (x, y) => brightness * (1 + lx * (x - 0.5) + ly * (y - 0.5)));

  const sigma = prng.uniform(conditions.noise[0], conditions.noise[1]);
  const { pixels } = canvas;
  for (let i = 0; i < pixels.length; i++) pixels[i] = pixels[i]! + sigma * prng.normal();
}
