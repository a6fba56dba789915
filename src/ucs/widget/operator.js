/* ucs operator component: the script a CRM page loads (docs/api.md).
 *
 *   <script>window.ucsOperator = { renderTo: "operator", onReady(state) { … } };</script>
 *   <script src="https://ucs.example.com/operator/operator.js"></script>
 *
 * A classic script, so that it works in any page; it loads the component's ES modules from
 * the server it came from. When they do not come, onError hears why (ORIGIN_REFUSED: the
 * server refuses this page's origin; SERVER_UNREACHABLE; LOAD_FAILED) and the console says
 * which setting to change. Bundlers import operator.mjs instead.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(".", script && script.src ? script.src : window.location.href);
  var api = window.ucsOperator || (window.ucsOperator = {});
  var entry = new URL("ucs-operator.js", base).href;
  // A load that fails for a moment is tried again: the browser fails the requests it is
  // opening when the machine's network changes (ERR_NETWORK_CHANGED: an interface or address
  // came or went), and a module that failed is fetched anew by the next import().
  var RETRIES = [250, 1000, 3000];
  var load = function (attempt) {
    import(entry)
      .then(function (module) { module.boot(api, base); })
      .catch(function (error) { failed(error, attempt); });
  };
  var failed = function (error, attempt) {
    // Why: a module the server sends with CORS refused (its origin policy answers 403) but
    // reachable without CORS is the origin; nothing at all is a server that is not there.
    var code = "LOAD_FAILED";
    var hint = "the operator component did not load from " + base.href;
    var probe = function (mode) {
      return fetch(entry, { mode: mode, cache: "no-store" })
        .then(function () { return true; }, function () { return false; });
    };
    Promise.all([probe("cors"), probe("no-cors")]).then(function (ok) {
      if (!ok[0] && ok[1]) {
        code = "ORIGIN_REFUSED";
        hint = "the ucs server at " + base.origin + " refuses this page's origin " +
          window.location.origin + ": add it to UCS_ALLOWED_ORIGINS (comma-separated) " +
          "in the server's environment and restart it";
      } else if (!ok[1]) {
        code = "SERVER_UNREACHABLE";
        hint = "the ucs server at " + base.origin + " cannot be reached: is it running, " +
          "and is this the address it listens on (ucs serve --host/--port)?";
      }
      if (code !== "ORIGIN_REFUSED" && attempt < RETRIES.length) {
        console.warn("ucs: " + hint + "; trying again", error);
        setTimeout(function () { load(attempt + 1); }, RETRIES[attempt]);
        return;
      }
      console.error("ucs: " + hint, error);
      var err = new Error(hint);
      err.name = "UcsError";
      err.code = code;
      if (typeof api.onError === "function") {
        try { api.onError(err); } catch (e) { console.error("ucs: the onError callback failed", e); }
      }
    });
  };
  load(0);
})();
