/**
 * @gatehouse/sdk — verify Gatehouse credentials inside a service.
 *
 * The verifier, framework middleware and client-credentials helper arrive with the JWT and SDK
 * issues; for now the package exports its version so that it builds and can be depended upon.
 */
export const SDK_VERSION = '0.1.0';
