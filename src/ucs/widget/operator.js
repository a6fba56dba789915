/* ucs operator component: the script a CRM page loads (CONTRACT §5).
 *
 *   <script>window.ucsOperator = { renderTo: "operator", onReady(state) { … } };</script>
 *   <script src="https://ucs.example.com/operator/operator.js"></script>
 *
 * A classic script, so that it works in any page; it loads the component's ES modules from
 * the server it came from.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(".", script && script.src ? script.src : window.location.href);
  var api = window.ucsOperator || (window.ucsOperator = {});
  import(new URL("ucs-operator.js", base).href)
    .then(function (module) { module.boot(api, base); })
    .catch(function (error) { console.error("ucs: the operator component did not load", error); });
})();
