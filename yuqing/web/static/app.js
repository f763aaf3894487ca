// Light progressive enhancement only: live deadline countdowns. The pages work without it.
(function () {
  "use strict";
  function fmt(sec) {
    var s = Math.abs(Math.floor(sec));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d) return d + "天" + h + "小时";
    if (h) return h + "小时" + m + "分";
    return m + "分钟";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      var left = (Date.parse(el.getAttribute("data-deadline")) - now) / 1000;
      if (isNaN(left)) return;
      el.textContent = left < 0 ? "已超时 " + fmt(left) : "剩余 " + fmt(left);
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 7200);
      var row = el.closest("tr");
      if (row && left < 0) row.classList.add("row-overdue");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 30000); });
})();
