import { Random } from './random.js';

/**
 * The ecosystem the simulator builds: structures, their staff and the people they follow. Sizes are
 * drawn from log-normal distributions around the public orders of magnitude (about 440 Missions
 * Locales following 1.6 M young people with some 15,000 staff; Cap emploi structures, France Travail
 * agencies and training organisations beside them). `scale` multiplies every count.
 */
export type StructureKind = 'mission_locale' | 'cap_emploi' | 'agency' | 'training_organisation';
export type StaffRole = 'agent' | 'account_manager' | 'account_approver';

export interface Structure {
  readonly id: string;
  readonly name: string;
  readonly kind: StructureKind;
  readonly parentId: string;
  /** Index of the structure's city in CITIES. */
  readonly city: number;
  /** The office's shared NAT addresses. */
  readonly officeIps: readonly string[];
  /** Indexes of the people it follows (structure-level), into World.people. */
  readonly people: number[];
  readonly staff: number[];
}

export interface Staff {
  readonly index: number;
  readonly email: string;
  readonly structure: number;
  readonly role: StaffRole;
  /** Also holds the agent role (managers and approvers are advisors too). */
  readonly agent: boolean;
  /** Mean records opened per working day (log-normal across people). */
  readonly dailyReads: number;
  /** Never works during the run (an account nobody switched off). */
  readonly dormant: boolean;
  /** Works from several places. */
  readonly travelling: boolean;
  /** Works from home some days, from this residential address. */
  readonly homeIp: string;
  readonly homeDays: number;
  /** Indexes of the people in its own caseload. */
  readonly caseload: number[];
  /** Leaves during the run on this work day (its manager disables it); -1: stays. */
  readonly leavesOnDay: number;
  /** Set once provisioned. */
  accountId?: string;
}

export interface World {
  readonly seed: number;
  readonly scale: number;
  readonly operatorNetworks: {
    readonly missionsLocales: string;
    readonly franceTravail: string;
    readonly partners: string;
  };
  readonly structures: Structure[];
  readonly staff: Staff[];
  /** Opaque record id of each person (what business applications know them by). */
  readonly people: string[];
  readonly peopleKind: ('young_person' | 'job_seeker')[];
}

export const CITIES = [
  'Paris',
  'Lyon',
  'Marseille',
  'Lille',
  'Toulouse',
  'Nantes',
  'Rennes',
  'Bordeaux',
  'Strasbourg',
  'Montpellier',
  'Nice',
  'Rouen',
  'Dijon',
  'Clermont-Ferrand',
  'Limoges',
  'Besançon',
  'Orléans',
  'Metz',
] as const;

/** French residential ISPs (Orange, Free, SFR, Bouygues): /16s that geolocate to France. */
const RESIDENTIAL = [
  '90.12',
  '90.45',
  '86.200',
  '86.217',
  '2.10',
  '82.64',
  '82.65',
  '91.160',
  '91.168',
  '77.193',
  '109.0',
  '176.150',
  '176.140',
];
/** Business links where structures' offices sit behind a shared NAT. */
const OFFICE = ['193.252', '194.2', '80.12', '194.3', '193.251'];

const peopleId = (prefix: string, n: number) =>
  // A bijection of 0..10^8-1 (the multiplier is prime to 10^8): ids look scattered, never sequential.
  `${prefix}${((n * 2654435761) % 100_000_000).toString().padStart(8, '0')}`;

export interface WorldOptions {
  readonly seed: number;
  readonly scale: number;
  /** Work days the run lasts (departures are placed in it). */
  readonly workDays: number;
}

/** Builds the world from a seed: the same seed and scale always give the same world. */
export function generateWorld(options: WorldOptions): World {
  const rnd = new Random(options.seed).fork('world');
  const s = options.scale;
  const people: string[] = [];
  const peopleKind: ('young_person' | 'job_seeker')[] = [];
  const structures: Structure[] = [];
  const staff: Staff[] = [];
  const ids = { missionsLocales: rnd.uuid(), franceTravail: rnd.uuid(), partners: rnd.uuid() };
  let officeSeq = 0;
  const officeIp = () => {
    officeSeq += 1;
    return `${OFFICE[officeSeq % OFFICE.length]}.${(officeSeq >> 8) & 255}.${officeSeq & 255 || 1}`;
  };
  const residentialIp = () => `${rnd.pick(RESIDENTIAL)}.${rnd.int(0, 255)}.${rnd.int(1, 254)}`;

  const addPeople = (count: number, kind: 'young_person' | 'job_seeker', prefix: string): number[] => {
    const out: number[] = [];
    for (let i = 0; i < count; i += 1) {
      out.push(people.length);
      people.push(peopleId(prefix, people.length));
      peopleKind.push(kind);
    }
    return out;
  };

  const addStructure = (
    kind: StructureKind,
    name: string,
    parentId: string,
    population: number[],
    staffCount: number,
    caseloadSize: number,
  ) => {
    const index = structures.length;
    const nats = rnd.chance(0.2) ? 2 : 1;
    const structure: Structure = {
      id: rnd.uuid(),
      name,
      kind,
      parentId,
      city: rnd.int(0, CITIES.length - 1),
      officeIps: Array.from({ length: nats }, officeIp),
      people: population,
      staff: [],
    };
    structures.push(structure);
    // One or two account managers and approvers per structure; large ones have more.
    const managers = staffCount > 40 ? 2 : 1;
    const approvers = staffCount > 25 ? 2 : 1;
    let cursor = 0;
    for (let k = 0; k < staffCount; k += 1) {
      const role: StaffRole =
        k < managers ? 'account_manager' : k < managers + approvers ? 'account_approver' : 'agent';
      const caseload: number[] = [];
      const take = kind === 'training_organisation' ? 0 : Math.min(caseloadSize, population.length - cursor);
      for (let c = 0; c < take; c += 1) caseload.push(population[cursor + c]!);
      cursor += take;
      const member: Staff = {
        index: staff.length,
        email: `${role === 'agent' ? 'conseiller' : role === 'account_manager' ? 'rgc' : 'valideur'}.${staff.length}@${kind.replace('_', '-')}-${index}.fr`,
        structure: index,
        role,
        agent: role === 'agent' || rnd.chance(0.7),
        dailyReads: rnd.logNormal(kind === 'training_organisation' ? 8 : 12, 0.5),
        dormant: role === 'agent' && rnd.chance(0.04),
        travelling: rnd.chance(0.02),
        homeIp: residentialIp(),
        homeDays: rnd.chance(0.6) ? rnd.int(1, 2) : 0,
        caseload,
        leavesOnDay:
          role === 'agent' && rnd.chance(0.01) ? rnd.int(1, Math.max(1, options.workDays - 1)) : -1,
      };
      staff.push(member);
      structure.staff.push(member.index);
    }
  };

  const mlCount = Math.max(2, Math.round(440 * s));
  for (let i = 0; i < mlCount; i += 1) {
    const young = Math.max(30, Math.round(rnd.logNormal(3636, 0.6) * Math.min(1, s * 10)));
    const population = addPeople(young, 'young_person', 'ML');
    // About one member of staff for 105 young people followed, at least three.
    const staffCount = Math.max(3, Math.round(young / rnd.logNormal(105, 0.2)));
    addStructure(
      'mission_locale',
      `Mission Locale ${i + 1}`,
      ids.missionsLocales,
      population,
      staffCount,
      20,
    );
  }
  const ceCount = Math.max(1, Math.round(100 * s));
  const agencyCount = Math.max(1, Math.round(60 * s));
  for (let i = 0; i < ceCount; i += 1) {
    const population = addPeople(
      Math.max(30, Math.round(rnd.logNormal(1500, 0.5) * Math.min(1, s * 10))),
      'job_seeker',
      'DE',
    );
    addStructure(
      'cap_emploi',
      `Cap emploi ${i + 1}`,
      ids.franceTravail,
      population,
      Math.max(3, Math.round(population.length / 110)),
      25,
    );
  }
  for (let i = 0; i < agencyCount; i += 1) {
    const population = addPeople(
      Math.max(30, Math.round(rnd.logNormal(2500, 0.4) * Math.min(1, s * 10))),
      'job_seeker',
      'DE',
    );
    addStructure(
      'agency',
      `Agence France Travail ${i + 1}`,
      ids.franceTravail,
      population,
      Math.max(3, Math.round(population.length / 120)),
      25,
    );
  }
  // Training organisations enrol job seekers already on the register (a slice of the agencies' people).
  const jobSeekers = structures.filter((x) => x.kind === 'agency').flatMap((x) => x.people);
  const toCount = Math.max(1, Math.round(80 * s));
  for (let i = 0; i < toCount; i += 1) {
    const enrolled: number[] = [];
    const n = Math.min(jobSeekers.length, Math.max(20, Math.round(rnd.logNormal(250, 0.5))));
    const start = rnd.int(0, Math.max(0, jobSeekers.length - n));
    for (let k = 0; k < n; k += 1) enrolled.push(jobSeekers[start + k]!);
    addStructure(
      'training_organisation',
      `Organisme de formation ${i + 1}`,
      ids.partners,
      enrolled,
      rnd.int(2, 8),
      0,
    );
  }
  return { seed: options.seed, scale: s, operatorNetworks: ids, structures, staff, people, peopleKind };
}
