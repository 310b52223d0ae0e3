// @tajo/sdk: the connector documentation's client for Tajo's HTTP API (/api/v1).
//
// No runtime dependencies: Node 20's global fetch does the HTTP. Every call is one request;
// docs/api.md lists the request behind each method.

const DEFAULT_TIMEOUT_MS = 30_000;

/** An answer of Tajo's API that is not a success: `status`, `code`, `field` and the message. */
export class TajoError extends Error {
  constructor(status, problem = {}) {
    super(problem.message || `Tajo answered HTTP ${status}`);
    this.name = 'TajoError';
    this.status = status;
    this.code = problem.code || 'http_error';
    this.field = problem.field ?? null;
  }
}

function trimSlash(url) {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

function connectorName(connector) {
  if (typeof connector !== 'string' || !/^[-a-zA-Z0-9_]{1,60}$/.test(connector)) {
    throw new TypeError(`a connector name such as 'activecampaign' is needed, got ${JSON.stringify(connector)}`);
  }
  return encodeURIComponent(connector);
}

export class TajoClient {
  /**
   * @param {object} options
   * @param {string} options.apiKey Tajo API token (admin: API tokens → Add).
   * @param {string} [options.brevoApiKey] Brevo key sent with `connectors.connect` when its body has none.
   * @param {string} [options.brevoApiUrl] Brevo API root sent with it (or $BREVO_API_URL; Tajo's default is https://api.brevo.com/v3).
   * @param {string} [options.baseUrl] Tajo's API root, e.g. https://tajo.example.com/api/v1 (or $TAJO_BASE_URL).
   * @param {number} [options.timeoutMs] per request (default 30 s).
   * @param {typeof fetch} [options.fetch] a fetch implementation (default: the global one).
   */
  constructor({ apiKey, brevoApiKey, brevoApiUrl, baseUrl, timeoutMs = DEFAULT_TIMEOUT_MS, fetch: fetchImpl } = {}) {
    if (!apiKey) {
      throw new TypeError('TajoClient needs an apiKey: a Tajo API token (admin: API tokens → Add)');
    }
    const env = typeof process !== 'undefined' ? process.env : {};
    const root = baseUrl || env.TAJO_BASE_URL;
    if (!root) {
      throw new TypeError('TajoClient needs a baseUrl (your Tajo, e.g. https://tajo.example.com/api/v1) or $TAJO_BASE_URL');
    }
    this.baseUrl = trimSlash(root);
    this.timeoutMs = timeoutMs;
    this.fetch = fetchImpl || globalThis.fetch;
    if (typeof this.fetch !== 'function') {
      throw new TypeError('no fetch available: use Node 20 or later, or pass options.fetch');
    }
    // Kept off the enumerable properties so that logging the client never prints a key.
    Object.defineProperty(this, '_apiKey', { value: apiKey });
    Object.defineProperty(this, '_brevoApiKey', { value: brevoApiKey });
    this.brevoApiUrl = brevoApiUrl || env.BREVO_API_URL || undefined;

    this.connectors = {
      /** Store the credentials, test them and discover both catalogs: `sync` works next. */
      connect: (connector, credentials = {}) => {
        const body = { ...credentials };
        if (body.brevoApiKey === undefined && this._brevoApiKey) {
          body.brevoApiKey = this._brevoApiKey;
          if (body.brevoApiUrl === undefined && this.brevoApiUrl) body.brevoApiUrl = this.brevoApiUrl;
        }
        return this.request('POST', `/connectors/${connectorName(connector)}/connect`, { body });
      },
      /** Start a run: {type: 'full'|'incremental', resources, options, dryRun}; resolves to the run. */
      sync: (connector, { idempotencyKey, ...options } = {}) =>
        this.request('POST', `/connectors/${connectorName(connector)}/sync`, { body: options, idempotencyKey }),
      /** {connected, lastSync, contactsMigrated, dealsSynced, eventsSynced, currentRun}. */
      status: (connector) => this.request('GET', `/connectors/${connectorName(connector)}/status`),
      /** The tenant's connections. */
      list: () => this.request('GET', '/connectors'),
    };
    this.activecampaign = this.connector('activecampaign');
    this.runs = {
      get: (id) => this.request('GET', `/runs/${Number(id)}`),
      records: (id, query = {}) => this.request('GET', `/runs/${Number(id)}/records`, { query }),
      cancel: (id) => this.request('POST', `/runs/${Number(id)}/cancel`),
      retry: (id) => this.request('POST', `/runs/${Number(id)}/retry`),
    };
  }

  /** The calls of one named connection (`tajo.activecampaign` is `tajo.connector('activecampaign')`). */
  connector(name) {
    const path = `/connectors/${connectorName(name)}`;
    return {
      /** Forward one event to Brevo: {event, eventData, email | contact: {email} | visit: {email}}. */
      trackEvent: ({ idempotencyKey, ...event } = {}) =>
        this.request('POST', `${path}/events`, { body: event, idempotencyKey }),
      sync: (options) => this.connectors.sync(name, options),
      status: () => this.connectors.status(name),
    };
  }

  async request(method, path, { body, query, idempotencyKey } = {}) {
    let url = `${this.baseUrl}${path}`;
    const search = new URLSearchParams(
      Object.entries(query || {}).filter(([, value]) => value !== undefined && value !== null),
    ).toString();
    if (search) url += `?${search}`;
    const headers = { Authorization: `Bearer ${this._apiKey}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (idempotencyKey) headers['Idempotency-Key'] = String(idempotencyKey);
    let response;
    try {
      response = await this.fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      throw new TajoError(0, { code: 'network_error', message: `Tajo could not be reached at ${this.baseUrl}: ${error.message}` });
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        throw new TajoError(response.status, { code: 'not_json', message: `Tajo answered HTTP ${response.status} with a body that is not JSON` });
      }
    }
    if (!response.ok) throw new TajoError(response.status, (data && data.error) || {});
    return data;
  }
}

export default TajoClient;
