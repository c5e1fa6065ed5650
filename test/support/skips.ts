/**
 * Skips that never hide. A group of tests whose prerequisite is missing prints one line saying what is skipped
 * and why; under CI=true, where the prerequisite is part of the job (the Docker engine, ../shared/reference,
 * compose v2), a failing test takes the group's place, so a green CI run means those tests ran.
 */
import { it } from 'vitest';

export const inCI = process.env.CI === 'true';

/** True when the group must be skipped (`why` says why); registers the failing test in CI when `requiredInCI`. */
export function skipGroup(what: string, why: string | undefined, opts: { requiredInCI?: boolean } = {}): boolean {
  if (!why) return false;
  if (opts.requiredInCI && inCI) {
    it(`${what}: required in CI`, () => {
      throw new Error(`${what} cannot run: ${why}. CI=true requires them (.ci/run installs what they need).`);
    });
    console.log(`${what} required in CI but cannot run: ${why}`);
    return true;
  }
  console.log(`${what} skipped: ${why}`);
  return true;
}
