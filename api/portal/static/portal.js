/* scf-ledger portal: wallet sign-in, actions signed in the wallet, documents hashed in the browser.
   Visible text comes from the page's message catalogue (#portal-messages); nothing here is English. */
(() => {
  "use strict";
  const messages = JSON.parse(document.getElementById("portal-messages").textContent);
  const decimalsTag = document.getElementById("portal-decimals");
  const decimals = decimalsTag ? Number(JSON.parse(decimalsTag.textContent)) : 0;
  const AMOUNT_FIELDS = new Set(["balance", "value", "available", "allowance", "amount", "current"]);
  const QUANTITIES = new Set(["value", "chainId", "gas", "nonce", "maxFeePerGas", "maxPriorityFeePerGas", "gasPrice",
    "type"]);

  function msg(key, vars = {}) {
    const text = key in messages ? messages[key] : key;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
  }

  function formatUnits(raw) { // "1234500000" with 6 decimals -> "1,234.50"
    const digits = String(raw);
    if (!/^\d+$/.test(digits)) return digits;
    const padded = digits.padStart(decimals + 1, "0");
    const whole = BigInt(padded.slice(0, padded.length - decimals)).toLocaleString("en-US");
    if (!decimals) return whole;
    return `${whole}.${padded.slice(padded.length - decimals).replace(/0+$/, "").padEnd(2, "0")}`;
  }

  function parseUnits(text) { // "1234.5" -> "1234500000" (smallest units, as a string); null when malformed
    const match = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
    if (!match || (match[2] || "").length > decimals) return null;
    const fraction = (match[2] || "").padEnd(decimals, "0");
    return (BigInt(match[1]) * 10n ** BigInt(decimals) + BigInt(fraction || "0")).toString();
  }

  function explain(body) { // the API's error body -> a sentence in the page's language
    const key = `error.${body.error}`;
    if (!(key in messages)) return msg("error.generic", {message: body.message || body.error});
    const vars = {message: body.message};
    for (const [name, value] of Object.entries(body.details || {})) {
      vars[name] = AMOUNT_FIELDS.has(name) ? formatUnits(value) : value;
    }
    return msg(key, vars);
  }

  function failure(error) {
    if (error && error.portal) return error.portal;
    if (error && error.code === 4001) return msg("js.rejected"); // EIP-1193: the user said no
    if (error && error.body) return explain(error.body);
    return msg("error.generic", {message: (error && error.message) || String(error)});
  }

  async function postJSON(url, data) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json"},
      body: JSON.stringify(data),
    });
    const body = await response.json().catch(() => ({error: "HttpError", message: response.statusText}));
    if (!response.ok) throw Object.assign(new Error(body.message), {body});
    return body;
  }

  function wallet() {
    if (!window.ethereum) throw Object.assign(new Error("no wallet"), {portal: msg("js.no_wallet")});
    return window.ethereum;
  }

  function say(region, parts, state) {
    region.replaceChildren(...parts.map((p) => (typeof p === "string" ? document.createTextNode(p) : p)));
    region.classList.toggle("error", state === "error");
    region.classList.toggle("ok", state === "ok");
  }

  // ------------------------------------------------------------------ sign-in (EIP-4361, personal_sign)

  async function signIn(button) {
    const status = document.getElementById("signin-status");
    button.disabled = true;
    try {
      const eth = wallet();
      say(status, [msg("js.connecting")]);
      const [address] = await eth.request({method: "eth_requestAccounts"});
      const {message} = await postJSON("/portal/signin/message", {address});
      say(status, [msg("js.signing")]);
      const hex = "0x" + Array.from(new TextEncoder().encode(message), (b) => b.toString(16).padStart(2, "0")).join("");
      const signature = await eth.request({method: "personal_sign", params: [hex, address]});
      const {token} = await postJSON("/auth/login", {message, signature});
      await postJSON("/portal/session", {token}); // the server keeps it in an HttpOnly cookie
      say(status, [msg("js.signed_in")], "ok");
      window.location.assign(button.dataset.next);
    } catch (error) {
      say(status, [failure(error)], "error");
      button.disabled = false;
    }
  }

  // ------------------------------------------- actions: built by the server, signed by the wallet, relayed

  function rpcTransaction(tx) {
    const request = {};
    for (const [name, value] of Object.entries(tx)) {
      request[name] = QUANTITIES.has(name) ? "0x" + BigInt(value).toString(16) : value;
    }
    return request;
  }

  async function signAndRelay(eth, tx) {
    const request = rpcTransaction(tx);
    try { // preferred: the wallet only signs; the server checks chain, contract and sender, then relays
      const signed = await eth.request({method: "eth_signTransaction", params: [request]});
      return await postJSON("/portal/api/tx/send", {raw_transaction: typeof signed === "string" ? signed : signed.raw});
    } catch (error) {
      if (!error || ![4200, -32601].includes(error.code)) throw error;
      // the wallet will not sign without sending (MetaMask): let it send, then read the decoded receipt
      const hash = await eth.request({method: "eth_sendTransaction", params: [request]});
      return await postJSON("/portal/api/tx/receipt", {tx_hash: hash});
    }
  }

  function eventList(events) {
    const list = document.createElement("ul");
    list.className = "events";
    for (const event of events) {
      const item = document.createElement("li");
      const args = Object.entries(event.args).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`);
      item.textContent = `${event.contract}.${event.name}(${args.join(", ")})`;
      list.append(item);
    }
    return list;
  }

  function beforeSteps(form, action) { // data-before: actions to send first; "@name" is the form's field value
    return JSON.parse(form.dataset.before || "[]").map((step) => Object.fromEntries(Object.entries(step).map(
      ([name, value]) => [name, typeof value === "string" && value.startsWith("@") ? action[value.slice(1)] : value])));
  }

  async function sendAction(form) {
    const out = form.querySelector(".tx-result");
    const button = form.querySelector("button[type=submit]");
    const action = {action: form.dataset.action};
    for (const input of form.querySelectorAll("input[name], select[name]")) {
      let value = input.value.trim();
      if (input.dataset.kind === "amount") {
        value = parseUnits(value);
        if (value === null) return say(out, [msg("js.bad_amount", {decimals})], "error");
      }
      action[input.name] = value === "true" ? true : value === "false" ? false : value;
    }
    button.disabled = true;
    try {
      const eth = wallet();
      for (const step of beforeSteps(form, action)) { // e.g. an approval the action needs, signed first
        say(out, [msg("js.building")]);
        const built = await postJSON("/portal/api/tx/build", step);
        say(out, [msg("js.wallet_signing")]);
        await signAndRelay(eth, built.transaction);
      }
      say(out, [msg("js.building")]);
      const {transaction} = await postJSON("/portal/api/tx/build", action);
      say(out, [msg("js.wallet_signing")]);
      const sent = await signAndRelay(eth, transaction);
      const reload = Object.assign(document.createElement("a"), {href: window.location.href, textContent: msg("js.reload")});
      say(out, [msg("js.done", {block: sent.block_number}), eventList(sent.events), reload], "ok");
    } catch (error) {
      say(out, [failure(error)], "error");
    } finally {
      button.disabled = false;
    }
  }

  // ------------------------------------------------ documents: SHA-256 in the browser, only the hash leaves

  async function sha256Hex(file) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await file.arrayBuffer()));
    return "0x" + Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function dropzone(form) {
    const input = form.querySelector("input[type=file]");
    const zone = form.querySelector(".dropzone");
    const status = form.querySelector("[role=status]");
    async function hash(file) {
      say(status, [msg("js.hashing", {name: file.name})]);
      form.querySelector("input[name=document]").value = await sha256Hex(file);
      form.submit(); // the file input has no name: only the hash is in the query
    }
    input.addEventListener("change", () => input.files[0] && hash(input.files[0]));
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("over");
      if (e.dataTransfer.files[0]) hash(e.dataTransfer.files[0]);
    });
  }

  // ------------------------------- a form's document: its SHA-256 into a hidden field (the file stays here)

  function hashInto(input) {
    const form = input.form;
    const target = form.querySelector(`input[name=${input.dataset.hashInto}]`);
    const shows = form.querySelector(`[data-hash-shows=${input.dataset.hashInto}]`);
    input.addEventListener("change", async () => {
      const [file] = input.files;
      if (!file) return;
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await file.arrayBuffer()));
      target.value = "0x" + Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
      if (shows) shows.textContent = shows.dataset.template.replace("{hash}", target.value);
    });
  }

  // ------------------------------------- offers: the lender signs EIP-712 terms; the book keeps them

  async function postOffer(form) {
    const out = form.querySelector(".offer-result");
    const button = form.querySelector("button[type=submit]");
    const signing = JSON.parse(document.getElementById("offer-signing").textContent);
    const field = (name) => form.querySelector(`[name=${name}]`).value.trim();
    const value = parseUnits(field("value"));
    const fee = parseUnits(field("fee"));
    if (value === null || fee === null) return say(out, [msg("js.bad_amount", {decimals})], "error");
    const rate = /^(\d+)(?:\.(\d{1,2}))?$/.exec(field("rate"));
    if (!rate) return say(out, [form.dataset.badRate], "error");
    const words = crypto.getRandomValues(new Uint32Array(2)); // a random 64-bit nonce: no bookkeeping needed
    const nonce = (BigInt(words[0]) << 32n) + BigInt(words[1]);
    const offer = {
      lender: signing.lender, holder: "0x0000000000000000000000000000000000000000", tokenId: field("token_id"),
      slot: "0", value, kind: 0, settlement: 0,
      rateBps: Number(rate[1]) * 100 + Number((rate[2] || "").padEnd(2, "0")), penaltyBps: 0, fixedPrice: "0", fee,
      recourse: false, expiry: String(Math.floor(Date.now() / 1000) + Number(field("days")) * 86400),
      nonce: nonce.toString(),
    };
    button.disabled = true;
    try {
      const eth = wallet();
      say(out, [form.dataset.signing]);
      const typed = {types: signing.types, primaryType: signing.primaryType, domain: signing.domain, message: offer};
      const signature = await eth.request({method: "eth_signTypedData_v4",
                                           params: [signing.lender, JSON.stringify(typed)]});
      say(out, [form.dataset.posting]);
      const posted = await postJSON("/portal/api/offers", {
        token_id: offer.tokenId, value, rate_bps: offer.rateBps, fee, expiry: offer.expiry, nonce: offer.nonce,
        signature});
      const reload = Object.assign(document.createElement("a"), {href: window.location.href, textContent: msg("js.reload")});
      say(out, [form.dataset.posted.replace("{id}", posted.id), " ", reload], "ok");
    } catch (error) {
      say(out, [failure(error)], "error");
    } finally {
      button.disabled = false;
    }
  }

  async function withdrawOffer(button) {
    const out = button.parentElement.querySelector(".offer-result");
    button.disabled = true;
    try {
      const eth = wallet();
      const response = await fetch(`/portal/api/offers/${button.dataset.offer}?cancel_nonce=true`,
                                   {method: "DELETE", credentials: "same-origin"});
      const body = await response.json().catch(() => ({error: "HttpError", message: response.statusText}));
      if (!response.ok) throw Object.assign(new Error(body.message), {body});
      say(out, [msg("js.wallet_signing")]); // then void the signed terms on-chain too
      const sent = await signAndRelay(eth, body.cancel_transaction);
      say(out, [button.dataset.done, " ", msg("js.done", {block: sent.block_number}), eventList(sent.events)], "ok");
    } catch (error) {
      say(out, [failure(error)], "error");
      button.disabled = false;
    }
  }

  // ------------- evidence check: the document hashed here, its SHA-256 and the receipt checked against the chain

  function readAs(file, how) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(reader.error);
      reader[how](file);
    });
  }

  async function checkEvidence(form) {
    const status = form.querySelector(".check-status");
    const outcome = document.getElementById("check-outcome");
    const [documentFile] = form.querySelector("input[name=document]").files;
    const [receiptFile] = form.querySelector("input[name=receipt]").files;
    if (!documentFile || !receiptFile) return say(status, [form.dataset.needFiles], "error");
    let receipt;
    try {
      receipt = JSON.parse(await readAs(receiptFile, "readAsText"));
    } catch {
      return say(status, [form.dataset.badReceipt], "error");
    }
    const body = {receipt, document_sha256: await sha256Hex(documentFile)};
    if (form.dataset.expectedBatch) body.expected_batch = Number(form.dataset.expectedBatch);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    say(status, [form.dataset.checking]);
    try {
      const response = await fetch("/portal/api/evidence/verify", {
        method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json"},
        body: JSON.stringify(body),
      });
      if (!response.ok) {
        const error = await response.json().catch(() => ({error: "HttpError", message: response.statusText}));
        throw Object.assign(new Error(error.message), {body: error});
      }
      outcome.querySelector(".check-result").innerHTML = await response.text(); // rendered and escaped by the server
      outcome.hidden = false;
      say(status, []);
      outcome.querySelector("h2").focus({preventScroll: false});
    } catch (error) {
      outcome.hidden = true;
      say(status, [failure(error)], "error");
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const signInButton = document.getElementById("signin-button");
    if (signInButton) signInButton.addEventListener("click", () => signIn(signInButton));
    for (const form of document.querySelectorAll("form.tx-form")) {
      form.addEventListener("submit", (e) => { e.preventDefault(); sendAction(form); });
    }
    for (const form of document.querySelectorAll("form.drop")) dropzone(form);
    for (const input of document.querySelectorAll("form.tx-form input[type=file][data-hash-into]")) hashInto(input);
    for (const form of document.querySelectorAll("form.offer-form")) {
      form.addEventListener("submit", (e) => { e.preventDefault(); postOffer(form); });
    }
    for (const button of document.querySelectorAll("button.withdraw-offer")) {
      button.addEventListener("click", () => withdrawOffer(button));
    }
    for (const form of document.querySelectorAll("form.evidence-check")) {
      form.addEventListener("submit", (e) => { e.preventDefault(); checkEvidence(form); });
    }
  });
})();
