// Leaving a page with typed text not yet saved asks first (issue 22: nothing typed is lost). A box counts
// as unsaved when its text differs from what the page was served with; the form being submitted does not
// count, so saving one row still warns about another row typed and not saved.
(function () {
  "use strict";
  var submitting = null;
  document.addEventListener("submit", function (event) { submitting = event.target; });
  window.addEventListener("beforeunload", function (event) {
    var boxes = document.querySelectorAll("form[data-unsaved] textarea");
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].form !== submitting && boxes[i].value !== boxes[i].defaultValue) {
        event.preventDefault();
        event.returnValue = "";  // older Chromium shows the prompt only when this is set
        return;
      }
    }
  });
})();
