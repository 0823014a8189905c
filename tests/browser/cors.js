// What the browser allowed and refused: one fetch per case, results written into #results.
"use strict";

const API = new URLSearchParams(location.search).get("api");
const CUSTOM = {"X-Custom": "1"};

// [name, url, fetch init]. Cross-origin unless the url starts with location.origin.
const CASES = [
  ["wild_get", API + "/wild/data", {}],
  ["wild_get_credentials", API + "/wild/data", {credentials: "include"}],
  ["wild_put_json", API + "/wild/data", {method: "PUT", headers: {"Content-Type": "application/json"}, body: "{}"}],
  ["wild_put_custom_header", API + "/wild/data", {method: "PUT", headers: CUSTOM}],
  ["listed_get", API + "/listed/data", {}],
  ["listed_get_credentials", API + "/listed/data", {credentials: "include"}],
  ["listed_put_custom_header", API + "/listed/data", {method: "PUT", headers: CUSTOM, credentials: "include"}],
  ["listed_delete", API + "/listed/data", {method: "DELETE"}],
  ["closed_get", API + "/closed/data", {}],
  ["closed_put_custom_header", API + "/closed/data", {method: "PUT", headers: CUSTOM}],
  ["refused_get", API + "/refused/data", {}],
  ["refused_put_custom_header", API + "/refused/data", {method: "PUT", headers: CUSTOM}],
  ["not_found", API + "/nope", {}],
  ["listed_abort_credentials", API + "/listed/fail", {credentials: "include"}],
  ["same_origin_post", location.origin + "/echo", {method: "POST", body: "x"}],
];

async function probe(url, init) {
  try {
    const res = await fetch(url, init);
    const text = await res.text();
    let body = text;
    try { body = JSON.parse(text); } catch (e) { /* not JSON: keep the text */ }
    return {allowed: true, status: res.status, body: body, total: res.headers.get("x-total")};
  } catch (err) {
    // A CORS refusal is an opaque network error: a TypeError, nothing else to see.
    return {allowed: false, error: err.name};
  }
}

(async () => {
  // A cookie for 127.0.0.1: cookies ignore ports, so the API server gets it on credentialed fetches.
  document.cookie = "sid=s3cret; path=/; SameSite=Lax";
  const results = {};
  for (const [name, url, init] of CASES) {
    results[name] = await probe(url, init);
  }
  document.getElementById("results").textContent = JSON.stringify(results);
})();
