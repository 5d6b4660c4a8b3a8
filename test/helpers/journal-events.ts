import { runCommand, type CommandDeps } from '../../src/modules/events/command.js';

/** Commits `count` plain test events (`test.appended`, data `{ i }`) in one transaction. */
export function appendTestEvents(deps: CommandDeps, count: number, kind = 'test.appended'): Promise<void> {
  return runCommand(deps, ({ emit }) => {
    for (let i = 0; i < count; i++)
      emit({ kind, actor: { type: 'system', id: 'test' }, outcome: 'success', data: { i } });
    return Promise.resolve();
  });
}
