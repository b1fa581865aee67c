// Batch upload with a progress bar. Without JavaScript the form posts as usual;
// with it, the upload goes by XMLHttpRequest so its progress can be shown, and the
// browser then goes to the results page the server redirected to.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var box = document.getElementById("upload-progress");
  var bar = document.getElementById("progress");
  var label = document.getElementById("progress-label");
  var button = document.getElementById("upload");

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { bar.value = Math.round((e.loaded / e.total) * 100); }
    });
    request.upload.addEventListener("load", function () {
      bar.value = 100;
      bar.removeAttribute("value");  // indeterminate while the server matches structures
      label.textContent = form.dataset.matching;
    });
    request.addEventListener("load", function () {
      if (request.status < 400 && request.responseURL && request.responseURL !== form.action) {
        window.location.assign(request.responseURL);
        return;
      }
      // an error page: show its main part in place of this one
      var page = new DOMParser().parseFromString(request.responseText, "text/html");
      var main = page.querySelector("main");
      if (main) { document.querySelector("main").replaceWith(main); }
    });
    request.addEventListener("error", function () { form.submit(); });
    box.hidden = false;
    button.disabled = true;
    label.textContent = form.dataset.uploading;
    request.send(new FormData(form));
  });
})();
