import fs from 'node:fs';
import path from 'node:path';
import { createImportService } from '../modules/imports/import.service.js';
import type { ImportKind } from '../modules/imports/importer.js';
import type { SystemActor } from '../shared/principal.js';
import { mapLimit, type Caller, type VigieClient } from './client.js';
import { withStoppedVigie, type HostOptions, type VigieHost } from './host.js';
import type { Runtime } from '../runtime.js';
import { progressBar } from './progress.js';
import type { World } from './world.js';

/**
 * Loads the world into Vigie the way an operator would: structures and accounts through `vigie
 * import` (the import service the CLI runs, in bulk), privileged roles, applications and their
 * tokens through the HTTP API with an operator token (privileged grants approved by a second
 * operator, four-eyes), then the advisor role and the follow relations through `vigie import` with
 * the server stopped (importRolesAndFollows), as one loads a register of 1.6 M people before opening
 * the service: a running server reloads its whole access view on each imported batch.
 */
export interface Provisioned {
  /** Business application tokens by structure kind, and partner portal tokens by structure index. */
  readonly businessApps: { readonly missionsLocales: AppHandle; readonly franceTravail: AppHandle };
  readonly partnerApps: Map<number, AppHandle>;
  /** Wall seconds of each provisioning phase, in order. */
  readonly phases: Record<string, number>;
}

export interface AppHandle {
  readonly id: string;
  readonly token: string;
  readonly ip: string;
}

const IMPORT_ACTOR: SystemActor = { kind: 'system', id: 'cli:import' };

async function importLines(
  runtime: Runtime,
  kind: ImportKind,
  file: string,
  lines: Iterable<object>,
  count: number,
) {
  const fd = fs.openSync(file, 'w');
  let chunk: string[] = [];
  for (const line of lines) {
    chunk.push(JSON.stringify(line));
    if (chunk.length >= 10_000) {
      fs.writeSync(fd, `${chunk.join('\n')}\n`);
      chunk = [];
    }
  }
  if (chunk.length) fs.writeSync(fd, `${chunk.join('\n')}\n`);
  fs.closeSync(fd);
  const bar = progressBar(`import ${kind}`, count, 'lines');
  const summary = await createImportService(runtime.container.core).importFile(IMPORT_ACTOR, {
    kind,
    file,
    format: 'ndjson',
    // Fewer, larger transactions than the CLI's default (`vigie import --batch-size`).
    batchSize: 20_000,
    onProgress: (p) => bar.tick(p.lines),
  });
  bar.finish(summary.rejected ? `${summary.rejected} rejected` : undefined);
  if (summary.rejected > 0 || summary.aborted) {
    throw new Error(
      `import ${kind}: ${summary.rejected} lines rejected${summary.aborted ? ', aborted' : ''}`,
    );
  }
}

/**
 * The follow relations as `vigie import follows` lines, in the order of their subject ids: the same
 * set of relations whatever the order, but a register sorted on its key is loaded by appending to
 * the subject indexes instead of inserting at random places in them (at the default scale a random
 * order loads about half as fast as the import goes on and the indexes outgrow SQLite's page cache).
 */
function followLines(world: World) {
  const inCaseload = new Map<number, string>();
  for (const member of world.staff) for (const p of member.caseload) inCaseload.set(p, member.accountId!);
  const lines: {
    subjectId: string;
    organisationId: string;
    subjectKind: string;
    relation: string;
    accountId?: string;
  }[] = [];
  for (const s of world.structures) {
    for (const p of s.people) {
      const account = s.kind === 'training_organisation' ? undefined : inCaseload.get(p);
      lines.push({
        subjectId: world.people[p]!,
        organisationId: s.id,
        subjectKind: world.peopleKind[p]!,
        relation: s.kind === 'training_organisation' ? 'enrolled' : 'follows',
        ...(account ? { accountId: account } : {}),
      });
    }
  }
  return lines.sort((a, b) => (a.subjectId < b.subjectId ? -1 : a.subjectId > b.subjectId ? 1 : 0));
}

export async function provisionWorld(
  host: VigieHost,
  client: VigieClient,
  world: World,
  workDir: string,
): Promise<Provisioned> {
  const phases: Record<string, number> = {};
  let mark = Date.now();
  const lap = (name: string) => {
    phases[name] = Math.round((Date.now() - mark) / 100) / 10;
    mark = Date.now();
  };
  const operator: Caller = { ip: '127.0.0.1', token: host.operatorToken };
  const second: Caller = { ip: '127.0.0.1', token: host.secondOperatorToken };
  const root = host.operatorOrganisationId;
  const networks = world.operatorNetworks;
  const orgLines = [
    { id: networks.missionsLocales, name: 'Réseau des Missions Locales', kind: 'network', parentId: root },
    { id: networks.franceTravail, name: 'France Travail', kind: 'network', parentId: root },
    { id: networks.partners, name: 'Organismes de formation partenaires', kind: 'network', parentId: root },
    ...world.structures.map((s) => ({ id: s.id, name: s.name, kind: s.kind, parentId: s.parentId })),
  ];
  await importLines(
    host.runtime,
    'organisations',
    path.join(workDir, 'organisations.ndjson'),
    orgLines,
    orgLines.length,
  );
  await importLines(
    host.runtime,
    'accounts',
    path.join(workDir, 'accounts.ndjson'),
    world.staff.map((m) => ({ email: m.email, organisationId: world.structures[m.structure]!.id })),
    world.staff.length,
  );
  // Imported accounts get their ids from Vigie: read them back through the API.
  const byEmail = new Map(world.staff.map((m) => [m.email, m]));
  let cursor: string | null = null;
  const listing = progressBar('list accounts', world.staff.length, 'accounts');
  let seen = 0;
  do {
    const page: { items: { id: string; email: string }[]; nextCursor: string | null } = await client.expect(
      operator,
      'GET',
      `/api/v1/accounts?limit=500${cursor ? `&cursor=${cursor}` : ''}`,
    );
    for (const a of page.items) {
      const member = byEmail.get(a.email);
      if (member) {
        member.accountId = a.id;
        seen += 1;
      }
    }
    listing.tick(seen);
    cursor = page.nextCursor;
  } while (cursor);
  listing.finish();
  lap('import organisations and accounts');

  // Privileged roles through the API, pending a second operator (four-eyes); the advisor role of
  // everyone is imported in bulk with the follow relations (importRolesAndFollows).
  const grants: { accountId: string; roleId: string; organisationId: string }[] = [];
  for (const m of world.staff) {
    const organisationId = world.structures[m.structure]!.id;
    if (m.role !== 'agent') grants.push({ accountId: m.accountId!, roleId: m.role, organisationId });
  }
  const bar = progressBar('grant privileged roles', grants.length, 'grants');
  const pending: string[] = [];
  await mapLimit(
    grants,
    16,
    async (g) => {
      const res = await client.expect<{ id: string; status: string }>(
        operator,
        'POST',
        '/api/v1/roles/assignments',
        g,
      );
      if (res.status === 'pending_approval') pending.push(res.id);
    },
    (n) => bar.tick(n),
  );
  bar.finish();
  // The second operator must itself be old enough to approve (VIGIE_APPROVER_MIN_AGE_DAYS).
  host.clock.advance((host.runtime.config.delegation.approverMinAgeDays + 1) * 86_400_000);
  const approve = progressBar('approve privileged grants', pending.length, 'grants');
  await mapLimit(
    pending,
    16,
    (id) => client.expect(second, 'POST', `/api/v1/roles/assignments/${id}/approve`),
    (n) => approve.tick(n),
  );
  approve.finish();
  lap('grant privileged roles over HTTP, approved by a second operator');

  const register = async (organisationId: string, name: string, kind: 'business' | 'partner', ip: string) => {
    const app = await client.expect<{ id: string }>(operator, 'POST', '/api/v1/applications', {
      organisationId,
      name,
      kind,
      scopes: ['pdp.evaluate'],
    });
    const token = await client.expect<{ secret: string }>(
      operator,
      'POST',
      `/api/v1/applications/${app.id}/tokens`,
      {
        name: 'production',
      },
    );
    return { id: app.id, token: token.secret, ip };
  };
  const businessApps = {
    missionsLocales: await register(
      networks.missionsLocales,
      'Dossier jeune (Missions Locales)',
      'business',
      '193.252.200.10',
    ),
    franceTravail: await register(
      networks.franceTravail,
      'Dossier demandeur (France Travail)',
      'business',
      '193.252.201.10',
    ),
  };
  const partnerApps = new Map<number, AppHandle>();
  const partners = world.structures
    .map((s, i) => [s, i] as const)
    .filter(([s]) => s.kind === 'training_organisation');
  const apps = progressBar('register partner portals', partners.length, 'apps');
  await mapLimit(
    partners,
    8,
    async ([s, i]) =>
      partnerApps.set(i, await register(s.id, `Portail partenaire — ${s.name}`, 'partner', '193.252.202.10')),
    (n) => apps.tick(n),
  );
  apps.finish();
  await host.settle();
  lap('register applications');
  return { businessApps, partnerApps, phases };
}

/**
 * The advisor role of everyone who holds it (`vigie import roles`: it needs no approval) and the
 * follow relations (`vigie import follows`), Vigie stopped: its next start loads them once.
 */
export async function importRolesAndFollows(
  options: HostOptions,
  world: World,
  workDir: string,
): Promise<Record<string, number>> {
  const phases: Record<string, number> = {};
  let mark = Date.now();
  const lap = (name: string) => {
    phases[name] = Math.round((Date.now() - mark) / 100) / 10;
    mark = Date.now();
  };
  const advisors = world.staff.filter((m) => m.agent);
  const peopleCount = world.structures.reduce((n, s) => n + s.people.length, 0);
  await withStoppedVigie(options, async (runtime) => {
    await importLines(
      runtime,
      'roles',
      path.join(workDir, 'roles.ndjson'),
      advisors.map((m) => ({ accountId: m.accountId, roleId: 'agent' })),
      advisors.length,
    );
    lap('import the advisor role (vigie import roles, server stopped)');
    await importLines(
      runtime,
      'follows',
      path.join(workDir, 'follows.ndjson'),
      followLines(world),
      peopleCount,
    );
    lap('import follow relations (vigie import follows, server stopped)');
  });
  return phases;
}
