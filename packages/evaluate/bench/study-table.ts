/** The study's result table exactly as printed (PAPER.md, "The result table"). */
export interface StudyRow {
  variant: 'theta0' | 'theta1' | 'theta2' | 'theta3' | 'theta4';
  label: string;
  testAccuracy: number;
  trainAccuracy: number;
  msPerImage: number;
  fileKB: number;
  printedL: number;
}

export const STUDY_TABLE: readonly StudyRow[] = [
  {
    variant: 'theta0',
    label: 'original',
    testAccuracy: 99.18,
    trainAccuracy: 99.92,
    msPerImage: 23,
    fileKB: 3200,
    printedL: 0,
  },
  {
    variant: 'theta1',
    label: 'dynamic range',
    testAccuracy: 90.26,
    trainAccuracy: 92.12,
    msPerImage: 47,
    fileKB: 834,
    printedL: 0.21,
  },
  {
    variant: 'theta2',
    label: 'int8, representative data',
    testAccuracy: 99.18,
    trainAccuracy: 99.92,
    msPerImage: 483,
    fileKB: 999,
    printedL: 19.31,
  },
  {
    variant: 'theta3',
    label: 'int8, integer input',
    testAccuracy: 99.08,
    trainAccuracy: 99.94,
    msPerImage: 486,
    fileKB: 1000,
    printedL: 19.44,
  },
  {
    variant: 'theta4',
    label: 'float16',
    testAccuracy: 99.18,
    trainAccuracy: 99.92,
    msPerImage: 23,
    fileKB: 1612,
    printedL: -0.5,
  },
];

export const STUDY_CHOICE = 'theta4';
