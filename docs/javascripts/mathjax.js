// MathJax 3 for pymdownx.arithmatex (generic mode) and mdderiv: both write
// class="arithmatex" elements with \( … \) or \[ … \] inside, and only those are typeset.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex"
  }
};

// Material's instant navigation replaces the page without reloading scripts.
// (Not on the first page: MathJax typesets that itself, and typesetting it again
// would also typeset the hidden MathML MathJax keeps for screen readers.)
let firstPage = true;
document$.subscribe(() => {
  if (firstPage) {
    firstPage = false;
    return;
  }
  MathJax.startup.output.clearCache();
  MathJax.typesetClear();
  MathJax.texReset();
  MathJax.typesetPromise();
});
