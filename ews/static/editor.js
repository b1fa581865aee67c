/* The structure editor (JSME, served from /static/vendor/jsme by `make assets`).

   Markup:  <div id="editor" data-target="ID-of-textarea" [data-format="molfile|smiles"]
                 [data-height="380px"] aria-label="..."></div>
            <textarea id="ID-of-textarea" name="..."></textarea>
   What is drawn is written into the textarea (a V2000 Molfile by default, or SMILES) after every
   change; a structure already in the textarea (Molfile or SMILES) is loaded into the editor.
   The editor element gets `data-ready="true"` and its JSME instance as `element.ewsEditor`. */
"use strict";
(function () {
  const host = document.getElementById("editor");
  if (!host) return;
  const target = document.getElementById(host.dataset.target || "");
  if (!target) {
    console.warn("editor.js: data-target names no element");
    return;
  }
  const format = host.dataset.format === "smiles" ? "smiles" : "molfile";

  function write(applet) {
    const text = format === "smiles" ? applet.smiles() : applet.molFile();
    // an empty drawing leaves the field empty, so the form does not submit a blank Molfile
    target.value = applet.nonHydrogenAtomCount && applet.nonHydrogenAtomCount() === 0 ? "" : text;
    target.dispatchEvent(new Event("input", { bubbles: true }));
  }

  const previous = window.jsmeOnLoad;
  window.jsmeOnLoad = function () {
    if (typeof previous === "function") previous();
    const applet = new window.JSApplet.JSME(host.id, "100%", host.dataset.height || "380px", {
      options: "oldlook,star,nocanonize",
    });
    const existing = target.value.trim();
    if (existing) {
      if (existing.includes("V2000") || existing.includes("V3000")) applet.readMolFile(existing);
      else applet.readGenericMolecularInput(existing);
    }
    applet.setCallBack("AfterStructureModified", function () {
      write(applet);
    });
    host.ewsEditor = applet;
    host.ewsWrite = function () {
      write(applet);
    };
    host.dataset.ready = "true";
  };

  const loader = document.createElement("script");
  loader.src = "/static/vendor/jsme/jsme.nocache.js";
  loader.onerror = function () {
    host.textContent = "The structure editor is not installed on this node (make assets).";
    host.dataset.ready = "error";
  };
  document.head.appendChild(loader);
})();
