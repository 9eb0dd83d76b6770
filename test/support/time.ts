/** 2024-01-02T10:00:00Z in ns: the instant most tests' data starts at. */
export const T0 = 1_704_189_600_000_000_000n;
