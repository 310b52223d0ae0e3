// Pages that take seconds to answer (preview, connection test, discovery) say so while they work:
// a link or form marked data-tajo-busy="what is happening" shows a progress banner once used.
(function () {
  "use strict";
  function show(message) {
    var banner = document.getElementById("tajo-busy");
    if (!banner) {
      banner = document.createElement("div");
      banner.id = "tajo-busy";
      banner.setAttribute("role", "status");
      banner.setAttribute("aria-live", "polite");
      banner.innerHTML = '<progress></progress> <span></span> <span class="tajo-busy-time"></span>';
      document.body.appendChild(banner);
    }
    banner.querySelector("span").textContent = message;
    var started = Date.now();
    var clock = banner.querySelector(".tajo-busy-time");
    window.setInterval(function () {
      clock.textContent = Math.round((Date.now() - started) / 1000) + " s";
    }, 500);
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-tajo-busy]");
    if (link && !event.defaultPrevented && event.button === 0 && !event.metaKey && !event.ctrlKey) {
      show(link.getAttribute("data-tajo-busy"));
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var marked = form.closest("[data-tajo-busy]") || (event.submitter && event.submitter.closest("[data-tajo-busy]"));
    if (marked && !event.defaultPrevented) {
      show(marked.getAttribute("data-tajo-busy"));
    }
  });
})();
