// Checks the browser tests run inside a page (tests/browser/helpers.py): axe-core's serious
// and critical violations, and text that does not fit.
window.ucsChecks = {
  async axe(selector) {
    const result = await window.axe.run(document.querySelector(selector), {
      resultTypes: ["violations"],
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
    });
    return result.violations
      .filter((v) => v.impact === "critical" || v.impact === "serious")
      .flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.failureSummary} @ ${n.target.join(" ")}`));
  },

  clipped(selector) {
    const host = document.querySelector(selector);
    const root = host.shadowRoot || host;
    const out = [];
    if (document.documentElement.scrollWidth > window.innerWidth + 1) {
      out.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
    }
    const outer = host.getBoundingClientRect();
    const canvas = document.createElement("canvas").getContext("2d");
    const what = (el) => `${el.tagName.toLowerCase()} "${(el.textContent || el.value || "").trim().slice(0, 40)}"`;
    for (const el of root.querySelectorAll("button, label, h1, h2, .pill, span, b, select, input")) {
      if (!el.offsetParent) continue; // hidden
      const style = getComputedStyle(el);
      if (el.tagName === "SELECT") {
        canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
        const text = el.options[el.selectedIndex]?.text || "";
        const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 16;
        if (canvas.measureText(text).width > room + 1) out.push(`select shows "${text}" cut`);
      } else if (style.display !== "inline" && el.scrollWidth > el.clientWidth + 1) {
        out.push(`${what(el)} cut`);
      }
      // Inside a box that scrolls sideways (a wide table in its card) it may lie beyond the
      // edge: the box itself is checked, as one of the elements above or as a div below.
      if (el.parentElement && el.parentElement.closest(".scroller")) continue;
      const box = el.getBoundingClientRect();
      if (box.right > outer.right + 1 || box.left < outer.left - 1) out.push(`${what(el)} sticks out`);
    }
    for (const el of root.querySelectorAll(".scroller")) {
      if (!el.offsetParent) continue;
      const box = el.getBoundingClientRect();
      if (box.right > outer.right + 1 || box.left < outer.left - 1) out.push(`a table's scroller sticks out`);
    }
    return out;
  },
};
