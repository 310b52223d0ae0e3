export interface TajoClientOptions {
  apiKey: string;
  brevoApiKey?: string;
  brevoApiUrl?: string;
  baseUrl?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface Status {
  connector: string;
  connected: boolean;
  lastSync: string | null;
  contactsMigrated: number;
  dealsSynced: number;
  eventsSynced: number;
  currentRun: Record<string, unknown> | null;
}

export interface TrackEvent {
  event: string;
  eventData?: unknown;
  email?: string;
  contact?: { email: string };
  visit?: { email: string };
  idempotencyKey?: string;
}

export interface ConnectorCalls {
  trackEvent(event: TrackEvent): Promise<Record<string, unknown>>;
  sync(options?: Record<string, unknown>): Promise<Record<string, unknown>>;
  status(): Promise<Status>;
}

export declare class TajoError extends Error {
  status: number;
  code: string;
  field: string | null;
}

export declare class TajoClient {
  constructor(options: TajoClientOptions);
  baseUrl: string;
  connectors: {
    connect(connector: string, credentials: { apiUrl: string; apiKey: string; brevoApiKey?: string; [key: string]: unknown }): Promise<Record<string, unknown>>;
    sync(connector: string, options?: { type?: 'full' | 'incremental'; resources?: string[]; options?: Record<string, unknown>; dryRun?: boolean; idempotencyKey?: string }): Promise<Record<string, unknown>>;
    status(connector: string): Promise<Status>;
    list(): Promise<Record<string, unknown>[]>;
  };
  activecampaign: ConnectorCalls;
  runs: {
    get(id: number): Promise<Record<string, unknown>>;
    records(id: number, query?: Record<string, string | number>): Promise<Record<string, unknown>>;
    cancel(id: number): Promise<Record<string, unknown>>;
    retry(id: number): Promise<Record<string, unknown>>;
  };
  connector(name: string): ConnectorCalls;
  request(method: string, path: string, options?: { body?: unknown; query?: Record<string, unknown>; idempotencyKey?: string }): Promise<any>;
}

export default TajoClient;
