// Joins the meeting as this page's hidden observer through RealtimeKit's browser SDK, and
// forwards every poll update to the dashboard, which keeps the only lasting record of them.
// Cloudflare offers no other way to read poll results: see polls/observer.py.
(function () {
  "use strict";

  var status = document.getElementById("observer");
  if (!status) {
    return;
  }
  var config = status.dataset;
  // Bursts of votes are merged: at most one post in this time, always with the latest state.
  var SEND_INTERVAL_MS = 300;
  // A post at least this often, even without a change, so other pages can tell that this one
  // is still watching.
  var HEARTBEAT_MS = 5000;
  var RETRY_DELAYS_MS = [1000, 2000, 5000, 10000, 30000];
  var SIGNED_OUT = "stopped: you are signed out or lost access. Reload the page.";

  var meeting = null;
  var latest = null;
  var ended = false;
  var closing = false;
  var sending = false;
  var sendAgain = false;
  var lastSentAt = 0;
  var sendTimer = null;
  var heartbeatTimer = null;
  var failures = 0;
  // Poll id to the JSON of its last update that the dashboard accepted: only polls that changed
  // since are sent again, so a meeting with many polls costs little per vote.
  var accepted = {};

  function say(text) {
    status.textContent = "Live results: " + text;
  }

  function loadSdk() {
    if (window.RealtimeKitClient) {
      return Promise.resolve();
    }
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = config.sdkUrl;
      script.onload = resolve;
      script.onerror = function () {
        reject(new Error("could not load the RealtimeKit SDK"));
      };
      document.head.appendChild(script);
    });
  }

  // A signed-out request is redirected to the login page, and fetch follows the redirect to
  // a 200 response.
  function signedOut(response) {
    return response.redirected || response.status === 403;
  }

  function post(url, contentType, body, keepalive) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: Boolean(keepalive),
      headers: { "Content-Type": contentType, "X-CSRFToken": config.csrfToken },
      body: body,
    });
  }

  function fetchToken(refresh) {
    var body = refresh ? "refresh=1" : "";
    return post(config.tokenUrl, "application/x-www-form-urlencoded", body).then(function (response) {
      if (signedOut(response)) {
        var signedOutError = new Error(SIGNED_OUT);
        signedOutError.final = true;
        throw signedOutError;
      }
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.ok && data.token) {
          return data.token;
        }
        var error = new Error(data.error || "the dashboard responded with HTTP " + response.status);
        // A 409 means the preset is unfit or no session is live, so retrying will not help.
        error.final = response.status === 409;
        error.retryAfter = data.retry_after;
        throw error;
      });
    });
  }

  function join(token) {
    return window.RealtimeKitClient.init({
      authToken: token,
      defaults: { audio: false, video: false },
    }).then(function (joined) {
      return joined.join().then(function () {
        return joined;
      });
    }).catch(function (error) {
      // A rejected or expired token fails here too, so the next attempt requests a new one.
      error.atJoin = true;
      throw error;
    });
  }

  function connect(refreshToken) {
    if (closing) {
      return;
    }
    say("connecting…");
    loadSdk()
      .then(function () { return fetchToken(refreshToken); })
      .then(join)
      .then(watch)
      .catch(function (error) {
        if (error.final) {
          say(error.message);
        } else {
          retry(error);
        }
      });
  }

  function retry(error) {
    failures += 1;
    var delay = RETRY_DELAYS_MS[Math.min(failures, RETRY_DELAYS_MS.length) - 1];
    if (error.retryAfter) {
      delay = Math.max(delay, error.retryAfter * 1000);
    }
    say("not connected (" + error.message + "); trying again in " + Math.round(delay / 1000) + " s.");
    setTimeout(function () { connect(Boolean(error.atJoin)); }, delay);
  }

  // NOTE: the roomLeft states "ended" and "disconnected" are what the sandbox's stand-in
  // sends; the official SDK's states have not been checked against a real meeting.
  function watch(joined) {
    meeting = joined;
    failures = 0;
    // Votes may have come in while the page was away: send every poll once more.
    accepted = {};
    meeting.polls.on("pollsUpdate", function (update) {
      queue((update && update.polls) || meeting.polls.items);
    });
    meeting.self.on("roomLeft", function (event) {
      left(joined, (event && event.state) || "disconnected");
    });
    say("on. This page forwards votes to the dashboard while it is open.");
    queue(meeting.polls.items);
    heartbeatTimer = setInterval(function () {
      if (latest && !sending && Date.now() - lastSentAt >= HEARTBEAT_MS) {
        send();
      }
    }, 1000);
  }

  function left(joined, state) {
    if (joined !== meeting) {
      return;
    }
    meeting = null;
    clearInterval(heartbeatTimer);
    if (state === "ended") {
      ended = true;
      say("the session has ended. The final results are saved.");
      queue(latest || []);
    } else if (state === "kicked" || state === "rejected") {
      // Joining again would only push out the page that took this observer's place.
      say("stopped: this observer joined the meeting from another page. Reload to take over.");
    } else if (!closing) {
      retry(new Error("the connection to the meeting dropped"));
    }
  }

  function queue(polls) {
    latest = polls;
    if (sending) {
      sendAgain = true;
      return;
    }
    clearTimeout(sendTimer);
    sendTimer = setTimeout(send, Math.max(0, lastSentAt + SEND_INTERVAL_MS - Date.now()));
  }

  // Sends the polls that changed since the dashboard last accepted them. A post without polls
  // still shows the dashboard that this page is watching.
  function send() {
    sending = true;
    lastSentAt = Date.now();
    var changed = latest.map(toUpdate).map(function (update) {
      return { id: update.id, json: JSON.stringify(update) };
    }).filter(function (entry) {
      return accepted[entry.id] !== entry.json;
    });
    var body = '{"polls":[' + changed.map(function (entry) { return entry.json; }).join(",") +
      '],"ended":' + ended + "}";
    post(config.syncUrl, "application/json", body, closing && body.length < 60000)
      .then(function (response) {
        if (signedOut(response)) {
          stop(SIGNED_OUT);
        } else if (response.ok) {
          changed.forEach(function (entry) { accepted[entry.id] = entry.json; });
        } else if (response.status < 500) {
          return response.json().then(function (data) {
            say("an update was refused: " + (data.error || "HTTP " + response.status));
          });
        }
      })
      .catch(function () {
        // The dashboard is unreachable for now, so the next update or heartbeat tries again.
      })
      .then(function () {
        sending = false;
        if (sendAgain) {
          sendAgain = false;
          queue(latest);
        }
      });
  }

  function stop(message) {
    closing = true;
    clearInterval(heartbeatTimer);
    say(message);
    if (meeting) {
      meeting.leave();
    }
  }

  // The shape the dashboard records (see polls/feed.py), from a poll as the SDK reports it.
  function toUpdate(poll) {
    var anonymous = Boolean(poll.anonymous);
    return {
      id: String(poll.id),
      question: String(poll.question || ""),
      anonymous: anonymous,
      hide_votes: Boolean(poll.hideVotes),
      created_by: String(poll.createdBy || ""),
      options: (poll.options || []).map(function (option) {
        var voters = anonymous ? [] : (option.votes || []).map(function (vote) {
          return { id: String(vote.id), name: String(vote.name || "") };
        });
        return {
          text: String(option.text || ""),
          count: Math.max(Math.round(Number(option.count) || 0), voters.length),
          voters: voters,
        };
      }),
    };
  }

  window.addEventListener("pagehide", function () {
    closing = true;
    if (meeting) {
      meeting.leave();
    }
  });
  // A page restored from the back-forward cache left the meeting when it was hidden.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      closing = false;
      connect(false);
    }
  });

  // One page per browser observes a meeting: the others wait, and the next one takes over when
  // it closes. Two pages joining with the same participant would push each other out.
  if (navigator.locks) {
    var waiting = new AbortController();
    var waitingNote = setTimeout(function () {
      say("another tab of this browser forwards this meeting's votes; this one takes over if " +
        "that tab closes.");
    }, 500);
    navigator.locks.request(
      "poll-dashboard-observer " + config.syncUrl,
      { signal: waiting.signal },
      function () {
        waiting = null;
        clearTimeout(waitingNote);
        connect(false);
        // Held until the page goes away.
        return new Promise(function () {});
      }
    ).catch(function () {
      // The wait was given up below.
    });
    // A waiting page learns of the session's end from its refreshing results, and then has
    // nothing left to take over.
    document.addEventListener("htmx:afterSettle", function () {
      if (waiting && document.querySelector(".freshness-ended, #live-session .idle")) {
        waiting.abort();
        waiting = null;
        clearTimeout(waitingNote);
        say("the session has ended.");
      }
    });
  } else {
    connect(false);
  }
})();
