// Adds and removes option rows in the poll form, and keeps the meeting search box in step with
// the address bar. Without JavaScript both forms still work as plain forms.
// Live results refresh only in a visible tab. Lists of voters stay open across refreshes.
(function () {
  "use strict";

  function renumber(list) {
    list.querySelectorAll(".option-row").forEach(function (row, index) {
      row.querySelector("input").setAttribute("aria-label", "Option " + (index + 1));
      row.querySelector(".remove-option").setAttribute("aria-label", "Remove option " + (index + 1));
    });
  }

  function updateButtons(form) {
    var list = form.querySelector(".option-rows");
    var rows = list.querySelectorAll(".option-row").length;
    var max = parseInt(list.dataset.maxOptions, 10);
    form.querySelector(".add-option").disabled = rows >= max;
    list.querySelectorAll(".remove-option").forEach(function (button) {
      button.disabled = rows <= 2;
    });
  }

  function addRow(form) {
    var list = form.querySelector(".option-rows");
    var row = list.querySelector(".option-row").cloneNode(true);
    row.querySelector("input").value = "";
    list.appendChild(row);
    renumber(list);
    updateButtons(form);
    row.querySelector("input").focus();
  }

  function removeRow(form, row) {
    var list = form.querySelector(".option-rows");
    row.remove();
    renumber(list);
    updateButtons(form);
  }

  document.addEventListener("click", function (event) {
    var form = event.target.closest("form");
    if (!form || !form.querySelector(".option-rows")) {
      return;
    }
    if (event.target.closest(".add-option")) {
      addRow(form);
    } else if (event.target.closest(".remove-option")) {
      removeRow(form, event.target.closest(".option-row"));
    }
  });

  function prepare(root) {
    root.querySelectorAll("form .option-rows").forEach(function (list) {
      updateButtons(list.closest("form"));
    });
  }

  // htmx restores a page from its history cache as HTML, which drops what was typed into the
  // search box, so the box is refilled from the restored address.
  document.addEventListener("htmx:historyRestore", function () {
    var search = document.getElementById("search-input");
    if (search) {
      search.value = new URLSearchParams(window.location.search).get("q") || "";
    }
  });

  // Live results refresh every second, but only while someone can see them.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (document.hidden && event.detail.elt.hasAttribute("data-live")) {
      event.preventDefault();
    }
  });

  // A refresh replaces the results, and with them the lists of voters: those that were open
  // are opened again with the names they showed, which opening then loads afresh.
  var openVoters = [];
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.elt.hasAttribute("data-live")) {
      openVoters = Array.prototype.map.call(
        event.detail.elt.querySelectorAll("details.voters[open]"),
        function (details) {
          return { id: details.id, names: details.querySelector(".voter-lists").cloneNode(true) };
        }
      );
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    openVoters.forEach(function (open) {
      var details = document.getElementById(open.id);
      if (details) {
        details.querySelector(".voter-lists").replaceWith(open.names);
        details.open = true;
      }
    });
    openVoters = [];
  });

  document.documentElement.classList.add("js");
  document.addEventListener("DOMContentLoaded", function () { prepare(document); });
  document.addEventListener("htmx:load", function (event) { prepare(event.detail.elt); });
})();
