// The REST client: one token, JSON in and out, errors as ApiError with the server's reason.

export class ApiError extends Error {
  constructor(status, body) {
    const reason = body && body.error ? body.error : `HTTP ${status}`;
    super(body && body.field ? `${reason} (${body.field})` : reason);
    this.status = status;
    this.body = body;
  }
}

export class Api {
  constructor(token, { onUnauthorized } = {}) {
    this.token = token;
    this.onUnauthorized = onUnauthorized || (() => {});
  }

  async request(method, path, body) {
    const headers = { Authorization: `Bearer ${this.token}` };
    const init = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch { data = { error: text.slice(0, 200) }; }
    }
    if (!response.ok) {
      if (response.status === 401) this.onUnauthorized();
      throw new ApiError(response.status, data);
    }
    return data;
  }

  get(path) { return this.request("GET", path); }
  post(path, body) { return this.request("POST", path, body); }
  delete(path) { return this.request("DELETE", path); }

  streamUrl(bbox) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let url = `${scheme}//${location.host}/api/v1/stream?token=${encodeURIComponent(this.token)}`;
    if (bbox) url += `&bbox=${bbox.join(",")}`;
    return url;
  }
}
