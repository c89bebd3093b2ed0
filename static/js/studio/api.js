// The studio's only door to the server: every request carries the CSRF token, and every
// answer comes back as { ok, status, data } so callers never parse errors themselves.

export class ApiError extends Error {}

export class Api {
  constructor(urls, csrfToken, text) {
    this.urls = urls;
    this.csrfToken = csrfToken;
    this.text = text;
  }

  fileUrl(name) {
    return this.urls.file.replace('__NAME__', encodeURIComponent(name));
  }

  async request(method, url, { body, contentType, expect = 'json' } = {}) {
    const headers = { 'X-CSRFToken': this.csrfToken, Accept: 'application/json, text/html;q=0.9' };
    if (contentType) {
      headers['Content-Type'] = contentType;
    }
    let response;
    try {
      response = await fetch(url, { method, body, headers, credentials: 'same-origin' });
    } catch (err) {
      throw new ApiError(this.text.offline);
    }
    // A session that ended is answered with the sign-in page; say so rather than
    // showing it as a strange error.
    if (response.redirected && /\/login\b/.test(response.url)) {
      throw new ApiError(this.text.signedOut);
    }
    const type = response.headers.get('Content-Type') || '';
    let data = null;
    if (type.includes('application/json')) {
      data = await response.json();
    } else if (expect === 'text' || type.startsWith('text/')) {
      data = await response.text();
    }
    if (!response.ok && !(data && Array.isArray(data.problems))) {
      const detail = data && data.message ? `: ${data.message}` : '';
      throw new ApiError(`${this.text.serverError} (HTTP ${response.status})${detail}`);
    }
    return { ok: response.ok, status: response.status, data };
  }

  listFiles() {
    return this.request('GET', this.urls.files);
  }

  async readFile(name) {
    const { data } = await this.request('GET', this.fileUrl(name), { expect: 'text' });
    return typeof data === 'string' ? data : JSON.stringify(data, null, 2);
  }

  saveFile(name, text, contentType) {
    return this.request('PUT', this.fileUrl(name), { body: text, contentType });
  }

  deleteFile(name) {
    return this.request('DELETE', this.fileUrl(name));
  }

  validate() {
    return this.request('POST', this.urls.validate);
  }

  /** Deploy the draft; `confirmReplace` is the id of the active version it may replace. */
  deploy(comment, confirmReplace = null) {
    return this.request('POST', this.urls.deploy, {
      body: JSON.stringify({ comment, confirm_replace: confirmReplace }), contentType: 'application/json',
    });
  }

  preview(schema, uischema) {
    return this.request('POST', this.urls.preview, {
      body: JSON.stringify({ schema, uischema }), contentType: 'application/json', expect: 'text',
    });
  }
}
