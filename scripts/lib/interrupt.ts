/**
 * Ctrl-C as Pulumi's own CLI treats it. The terminal sends SIGINT to the whole foreground process
 * group, the pulumi CLI included: on the first one the CLI lets the steps in flight finish, saves the
 * state and releases the lock. This process hosts the inline program, so it must outlive that: the
 * first SIGINT only says what happens; a second one stops at once (the next `npm run dev` cleans up
 * what that leaves: a stale lock, pending operations). Scripts that run steps of their own (db:restore)
 * run them out of the terminal's reach (scripts/lib/docker.ts) and ask `interrupted()` between them.
 */
export function finishInFlightStepsOnCtrlC(say: (line: string) => void): { interrupted: () => boolean } {
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts === 1) {
      say("interrupted: letting the steps in flight finish, then saving the state and releasing the lock (Ctrl-C again stops at once)");
      process.exitCode = 130;
      return;
    }
    say("stopped at once: the next `npm run dev` releases the lock and resolves what was in flight");
    process.exit(130);
  };
  process.on("SIGINT", onSigint);
  return { interrupted: () => interrupts > 0 };
}
