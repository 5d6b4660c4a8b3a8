import { Type, type TSchema } from '@sinclair/typebox';
import { UUID_PATTERN } from '../shared/ids.js';

/** Shared, bounded TypeBox primitives: every string has a maxLength, ids have a format. */
export const Id = Type.String({ pattern: UUID_PATTERN, maxLength: 36, description: 'UUID' });
export const Timestamp = Type.String({ format: 'date-time', maxLength: 40 });
/** Free text a person types: bounded, one line, no control character (PostgreSQL refuses NUL). */
export const Reason = Type.String({ minLength: 3, maxLength: 500, pattern: '^[^\\u0000-\\u001f\\u007f]*$' });

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
    requestId: Type.String(),
  },
  { $id: 'ErrorResponse' },
);

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]*$' })),
});

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });

export const ErrorResponses = {
  400: Type.Ref('ErrorResponse'),
  401: Type.Ref('ErrorResponse'),
  403: Type.Ref('ErrorResponse'),
  404: Type.Ref('ErrorResponse'),
  409: Type.Ref('ErrorResponse'),
};

/** Opaque keyset cursors: base64url of the last item's sort key. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  return Buffer.from(cursor, 'base64url').toString('utf8');
}
