/** A clock the test moves by hand; give `now` to the broker (`deps.clock`) and the simulator alike. */
export function fakeClock(start = Date.parse('2030-01-01T00:00:00Z')) {
  let now = start;
  return {
    start,
    now: () => now,
    set: (at: number) => (now = at),
    advance: (ms: number) => (now += ms),
  };
}

export type FakeClock = ReturnType<typeof fakeClock>;
