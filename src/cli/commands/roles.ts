import type { Command } from 'commander';
import { createRoles, type RoleResult } from '../../security/roles.js';
import { printJson, withEngine } from '../run.js';

interface RoleCliOptions {
  readerRole: string;
  loaderRole: string;
  login: boolean;
  json?: boolean;
}

/**
 * `tickvault roles` and `tickvault init --roles`: the read-only and loader roles (security/roles.ts).
 * Passwords come only from TICKVAULT_READER_PASSWORD / TICKVAULT_LOADER_PASSWORD (never argv,
 * which other users can read in the process list). Call after registerInit: it adds --roles to init.
 */
export function registerRoles(program: Command): void {
  const roleOptions = (cmd: Command) =>
    cmd
      .option('--reader-role <name>', 'read-only role (SELECT only)', 'tickvault_reader')
      .option('--loader-role <name>', 'loader role (INSERT/SELECT/UPDATE/DELETE; cannot DROP or ALTER)', 'tickvault_loader')
      .option('--no-login', 'create group roles (NOLOGIN) to GRANT to your users instead of login roles');

  roleOptions(
    program
      .command('roles')
      .description(
        'create or update the least-privilege reader and loader roles (passwords from $TICKVAULT_READER_PASSWORD / $TICKVAULT_LOADER_PASSWORD)',
      )
      .option('--json', 'print the result as JSON'),
  ).action(async (opts: RoleCliOptions, cmd: Command) => {
    const result = await withEngine(cmd, (engine) => createRoles(engine, roleArgs(opts)));
    if (opts.json) printJson(result);
    else printRoles(result);
  });

  const init = program.commands.find((c) => c.name() === 'init');
  if (init) {
    roleOptions(init.option('--roles', 'also create the reader and loader roles (see `tickvault roles`)')).hook(
      'postAction',
      async (_self, action) => {
        const opts = action.opts<RoleCliOptions & { roles?: boolean }>();
        if (!opts.roles) return;
        const result = await withEngine(action, (engine) => createRoles(engine, roleArgs(opts)));
        if (opts.json) printJson({ roles: result });
        else printRoles(result);
      },
    );
  }
}

function roleArgs(opts: RoleCliOptions) {
  return {
    readerRole: opts.readerRole,
    loaderRole: opts.loaderRole,
    login: opts.login,
    readerPassword: process.env.TICKVAULT_READER_PASSWORD || undefined,
    loaderPassword: process.env.TICKVAULT_LOADER_PASSWORD || undefined,
  };
}

function printRoles(r: RoleResult): void {
  for (const role of r.created) process.stdout.write(`created role ${role}\n`);
  for (const g of r.grants) process.stdout.write(`granted ${g}\n`);
  process.stdout.write(`roles ready: reader ${r.readerRole}, loader ${r.loaderRole}\n`);
  for (const w of r.warnings) process.stderr.write(`tickvault: warning: ${w}\n`);
}
