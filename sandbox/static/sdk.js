/*
 * Stand-in for RealtimeKit's browser SDK (@cloudflare/realtimekit), served by the sandbox at
 * /sandbox/sdk.js. It covers what a hidden observer of polls uses: RealtimeKitClient.init,
 * meeting.join and meeting.leave, meeting.polls.items, and the pollsUpdate, roomJoined and
 * roomLeft events. It has no media, chat or participant list.
 *
 * It learns about changes by long-polling the sandbox's /sandbox/sdk/polls endpoint, and
 * finds the sandbox from the address it was loaded from, so load it with <script src>.
 */
(function () {
  "use strict";

  var LONG_POLL_SECONDS = 10;
  var PARTICIPANT_PATH = "/sandbox/sdk/participant";
  var POLLS_PATH = "/sandbox/sdk/polls";
  var LEAVE_PATH = "/sandbox/sdk/leave";

  // document.currentScript is only set while this file first runs, so read it now.
  var script = document.currentScript;
  if (!script || !script.src) {
    throw new Error(
      "sandbox sdk.js: load this file with a <script src> element, because it finds the " +
        "sandbox from its own address"
    );
  }
  var BASE_URL = script.src.replace(/\/sandbox\/sdk\.js([?#].*)?$/, "");

  function sdkError(status, message) {
    var error = new Error(message);
    error.status = status;
    return error;
  }

  // Resolves with the JSON body of a 200 response. Rejects with an Error whose status is the
  // HTTP status, or 0 when the sandbox cannot be reached. An abort rejects with the AbortError.
  async function getJson(path, params, signal) {
    var url = new URL(BASE_URL + path);
    Object.keys(params).forEach(function (name) {
      url.searchParams.set(name, params[name]);
    });

    var response;
    try {
      response = await fetch(url, { signal: signal, cache: "no-store", credentials: "omit" });
    } catch (error) {
      if (error.name === "AbortError") {
        throw error;
      }
      throw sdkError(0, "Cannot reach the sandbox at " + BASE_URL + ": " + error.message);
    }

    var body = await response.json().catch(function () {
      return null;
    });
    if (!response.ok) {
      var detail = body && body.error ? body.error : "no details";
      throw sdkError(response.status, "Sandbox returned HTTP " + response.status + ": " + detail);
    }
    if (body === null) {
      throw sdkError(response.status, "Sandbox returned a body that is not JSON");
    }
    return body;
  }

  class EventEmitter {
    constructor() {
      // Not enumerable, so that logging meeting.self shows only the participant's fields.
      Object.defineProperty(this, "_listeners", { value: {} });
    }

    on(name, listener) {
      (this._listeners[name] = this._listeners[name] || []).push(listener);
      return this;
    }

    off(name, listener) {
      var listeners = this._listeners[name] || [];
      var index = listeners.indexOf(listener);
      if (index !== -1) {
        listeners.splice(index, 1);
      }
      return this;
    }

    emit(name, payload) {
      (this._listeners[name] || []).slice().forEach(function (listener) {
        // A failing listener must not keep the others, or the long-poll loop, from running.
        try {
          listener(payload);
        } catch (error) {
          console.error("sandbox sdk.js: a " + name + " listener threw", error);
        }
      });
    }
  }

  class Meeting {
    constructor(authToken, answer) {
      var participant = answer.participant;
      this.self = new EventEmitter();
      this.self.id = participant.id;
      this.self.name = participant.name;
      this.self.customParticipantId = participant.custom_participant_id;
      this.self.presetName = participant.preset_name;
      this.self.roomJoined = false;
      this.polls = new EventEmitter();
      this.polls.items = [];
      this.meta = { meetingId: answer.meeting_id };

      Object.defineProperty(this, "_authToken", { value: authToken });
      this._loop = null;
      this._version = 0;
      this._sessionId = null;
    }

    // Resolves once joined; rejects when the meeting has no live session or the token is
    // refused. Joining a joined meeting does nothing.
    async join() {
      if (this.self.roomJoined) {
        return;
      }
      var answer = await getJson(POLLS_PATH, { token: this._authToken, since: 0, wait: 0 });
      if (!answer.live) {
        throw sdkError(404, "Meeting " + this.meta.meetingId + " has no live session to join");
      }
      if (this.self.roomJoined) {
        return;
      }

      this._version = answer.version;
      this._sessionId = answer.session_id;
      this.polls.items = answer.polls;
      this.self.roomJoined = true;
      this.self.emit("roomJoined");
      this._startLoop();
    }

    // Leaving a meeting that is not joined does nothing and emits no event. The request
    // outlives the page (keepalive), so leaving from a closing page still reaches the sandbox.
    async leave() {
      if (!this.self.roomJoined) {
        return;
      }
      this._stop("left");
      var url = new URL(BASE_URL + LEAVE_PATH);
      url.searchParams.set("token", this._authToken);
      fetch(url, { method: "POST", keepalive: true, credentials: "omit" }).catch(function () {
        // The sandbox is gone; there is nothing left to leave.
      });
    }

    _startLoop() {
      var loop = { controller: new AbortController(), stopped: false };
      this._loop = loop;
      this._poll(loop);
    }

    async _poll(loop) {
      while (!loop.stopped) {
        var answer;
        try {
          answer = await getJson(
            POLLS_PATH,
            { token: this._authToken, since: this._version, wait: LONG_POLL_SECONDS },
            loop.controller.signal
          );
        } catch (error) {
          if (!loop.stopped) {
            this._stop("disconnected");
          }
          return;
        }
        if (loop.stopped) {
          return;
        }

        // A new session is a new room: the observer would have to join it again.
        if (!answer.live || answer.session_id !== this._sessionId) {
          this._stop("ended");
          return;
        }
        if (answer.version > this._version) {
          this._version = answer.version;
          this._replacePolls(answer.polls);
        }
      }
    }

    _replacePolls(polls) {
      var known = new Set(
        this.polls.items.map(function (poll) {
          return poll.id;
        })
      );
      var added = polls.filter(function (poll) {
        return !known.has(poll.id);
      });
      this.polls.items = polls;
      // One event per response: when several polls arrived at once, newPoll is the newest.
      this.polls.emit("pollsUpdate", { polls: polls, newPoll: added[added.length - 1] });
    }

    _stop(state) {
      var loop = this._loop;
      this._loop = null;
      if (loop) {
        loop.stopped = true;
        loop.controller.abort();
      }
      this.self.roomJoined = false;
      this.self.emit("roomLeft", { state: state });
    }
  }

  // Resolves with a meeting that is not joined yet. Rejects with an Error whose status is 401
  // when authToken is missing or refused, else the HTTP status, or 0 when the sandbox cannot
  // be reached. The media defaults are accepted and ignored.
  async function init(options) {
    var authToken = options && options.authToken;
    if (!authToken) {
      throw sdkError(401, "RealtimeKitClient.init: authToken is missing");
    }
    var answer = await getJson(PARTICIPANT_PATH, { token: authToken });
    return new Meeting(authToken, answer);
  }

  window.RealtimeKitClient = { init: init };
})();
