(function () {
  "use strict";
  // The launch form: the panel beside it shows the values of the profile picked now.
  var select = document.querySelector("#launch-form select[name=profile]");
  if (!select) { return; }
  function show() {
    document.querySelectorAll("#profile-panels .profile-panel").forEach(function (panel) {
      panel.hidden = panel.dataset.profile !== select.value;
    });
  }
  select.addEventListener("change", show);
  show();
})();
