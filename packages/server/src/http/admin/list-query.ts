/** The query schema every admin list endpoint shares: `limit` (1–200, default 50) and `cursor`. */
export function listQuerySchema(filters: Record<string, object> = {}) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
      cursor: { type: 'string', maxLength: 500 },
      ...filters,
    },
  } as const;
}
