import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { UUID_PATTERN } from '../../shared/ids.js';

/*
 * AuthZEN 1.0 request and response shapes. The spec says unknown fields are ignored, so every object
 * allows additional properties (the app's ajv keeps them: removeAdditional is off); strings are still
 * bounded, and `properties`/`context` are free-form objects as the spec defines them.
 */

const open = <T extends Parameters<typeof Type.Object>[0]>(props: T, description?: string) =>
  Type.Object(props, { additionalProperties: true, ...(description ? { description } : {}) });

const FreeObject = Type.Object({}, { additionalProperties: true });
const TypeName = Type.String({ minLength: 1, maxLength: 128 });
const EntityId = Type.String({ minLength: 1, maxLength: 256 });

/**
 * The request's context: free-form as AuthZEN leaves it, except the two keys that name a Vigie
 * session, whose strength, time and network then replace whatever the context claims.
 */
const Context = open(
  {
    session_id: Type.Optional(
      Type.String({
        pattern: UUID_PATTERN,
        maxLength: 36,
        description: "The Vigie session's public id (never the cookie secret)",
      }),
    ),
    access_token: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        description: 'An access token Vigie issued to the application in that session',
      }),
    ),
  },
  'AuthZEN context; naming a Vigie session makes the PDP read its strength (docs/access.md)',
);

export const Subject = open(
  { type: TypeName, id: EntityId, properties: Type.Optional(FreeObject) },
  'AuthZEN subject',
);
export const Resource = open(
  { type: TypeName, id: EntityId, properties: Type.Optional(FreeObject) },
  'AuthZEN resource',
);
export const Action = open({
  name: Type.String({ minLength: 1, maxLength: 128 }),
  properties: Type.Optional(FreeObject),
});

export const EvaluationRequest = open({
  subject: Subject,
  resource: Resource,
  action: Action,
  context: Type.Optional(Context),
});
export type EvaluationRequest = Static<typeof EvaluationRequest>;

/** Checked per item after defaults are applied, so one bad item fails alone (HTTP 200, decision false). */
export const evaluationItemCheck = TypeCompiler.Compile(EvaluationRequest);

const Semantic = Type.Union([
  Type.Literal('execute_all'),
  Type.Literal('deny_on_first_deny'),
  Type.Literal('permit_on_first_permit'),
]);

export const EvaluationsRequest = open({
  subject: Type.Optional(FreeObject),
  resource: Type.Optional(FreeObject),
  action: Type.Optional(FreeObject),
  context: Type.Optional(Context),
  evaluations: Type.Optional(Type.Array(FreeObject, { maxItems: 1000 })),
  options: Type.Optional(open({ evaluations_semantic: Type.Optional(Semantic) })),
});
export type EvaluationsRequest = Static<typeof EvaluationsRequest>;

export const DecisionResponse = Type.Object(
  { decision: Type.Boolean(), context: Type.Optional(FreeObject) },
  { additionalProperties: false },
);
export type DecisionResponse = Static<typeof DecisionResponse>;

export const EvaluationsResponse = Type.Object({
  decision: Type.Optional(Type.Boolean()),
  context: Type.Optional(FreeObject),
  evaluations: Type.Optional(Type.Array(DecisionResponse)),
});

const PageRequest = Type.Optional(
  open({
    token: Type.Optional(Type.String({ maxLength: 512 })),
    next_token: Type.Optional(Type.String({ maxLength: 512 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  }),
);

const SearchEntity = open({
  type: TypeName,
  id: Type.Optional(Type.String({ maxLength: 256 })),
  properties: Type.Optional(FreeObject),
});

export const SubjectSearchRequest = open({
  subject: SearchEntity,
  resource: Resource,
  action: Action,
  context: Type.Optional(Context),
  page: PageRequest,
});
export const ResourceSearchRequest = open({
  subject: Subject,
  resource: SearchEntity,
  action: Action,
  context: Type.Optional(Context),
  page: PageRequest,
});
export const ActionSearchRequest = open({
  subject: Subject,
  resource: Resource,
  context: Type.Optional(Context),
  page: PageRequest,
});

const PageResponse = Type.Object({ next_token: Type.String() });
const results = <T extends TSchema>(item: T) =>
  Type.Object({ results: Type.Array(item), page: PageResponse });
export const EntitySearchResponse = results(Type.Object({ type: Type.String(), id: Type.String() }));
export const ActionSearchResponse = results(Type.Object({ name: Type.String() }));

export const MetadataResponse = Type.Object({
  policy_decision_point: Type.String(),
  access_evaluation_endpoint: Type.String(),
  access_evaluations_endpoint: Type.String(),
  search_subject_endpoint: Type.String(),
  search_resource_endpoint: Type.String(),
  search_action_endpoint: Type.String(),
});
