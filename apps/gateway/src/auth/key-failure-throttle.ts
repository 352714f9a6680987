// Throttles invalid API keys, per client address and per key id. After KEY_FAILURE_LIMIT (1000) malformed or unknown keys
// (wrong secret included) from one address within a window, every Api-Key request from that address is answered
// 429 until the window ends, valid key or not, so guessing gets no answers. After CONIFER_KEY_ID_MAX_FAILURES wrong secrets
// presented for one key id (from any number of addresses), that key id is answered 429 likewise: spreading the
// guesses over many addresses, or hiding them among everyone's behind a load balancer whose X-Forwarded-For is
// not trusted, does not buy more guesses at one key. Missing, revoked and expired keys are not guesses and do
// not count.
//
// An attempt is counted when it starts (begin), before the key is verified, and stays counted only if it turns
// out to be a guess (end): concurrent attempts cannot all pass the check before any failure is recorded. Attempts
// in flight are counted per distinct key presented, so a client sending many concurrent requests with its one
// valid key holds one slot, while concurrent guesses hold one each. Fixed windows counted in process: each
// replica counts its own (N replicas: up to N× the limits), and the hot path never waits for Redis.
import { Injectable } from '@nestjs/common';

export const KEY_FAILURE_LIMIT = 1_000;
const KEY_ID_FAILURE_LIMIT = 100;
export const KEY_FAILURE_WINDOW_MS = 60_000;
const MAX_ENTRIES = 50_000;

interface Window {
  readonly start: number;
  /** Guesses recorded in the window. */
  failures: number;
  /** Attempts in flight, by the key presented (reference counts). */
  readonly pending: Map<string, number>;
}

/** One counted attempt, to be ended once its verification is known. */
export interface KeyAttempt {
  readonly presented: string;
  readonly addressWindow: Window;
  readonly keyWindow: Window | null;
}

/** The outcome of begin: refused for retryAfterSeconds (nothing counted), or counted. */
export type KeyAttemptStart =
  | { readonly retryAfterSeconds: number; readonly attempt?: undefined }
  | { readonly retryAfterSeconds: 0; readonly attempt: KeyAttempt };

class Windows {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  private current(name: string, now: number): Window | undefined {
    const window = this.windows.get(name);
    if (window && now - window.start >= this.windowMs && window.pending.size === 0) {
      this.windows.delete(name);
      return undefined;
    }
    return window && now - window.start < this.windowMs ? window : undefined;
  }

  /** Seconds to wait before `presented` may be tried (0: now). */
  wait(name: string, now: number, presented?: string): number {
    const window = this.current(name, now);
    if (!window) return 0;
    if (window.failures >= this.limit) return Math.max(1, Math.ceil((window.start + this.windowMs - now) / 1000));
    const inFlight = window.pending.size + (presented === undefined || window.pending.has(presented) ? 0 : 1);
    return window.failures + inFlight > this.limit ? 1 : 0;
  }

  window(name: string, now: number): Window {
    const existing = this.current(name, now);
    if (existing) return existing;
    if (this.windows.size >= MAX_ENTRIES) {
      for (const [key, w] of this.windows) if (now - w.start >= this.windowMs && w.pending.size === 0) this.windows.delete(key);
      if (this.windows.size >= MAX_ENTRIES) this.windows.delete(this.windows.keys().next().value as string);
    }
    const fresh: Window = { start: now, failures: 0, pending: new Map() };
    this.windows.set(name, fresh);
    return fresh;
  }
}

function hold(window: Window, presented: string): void {
  window.pending.set(presented, (window.pending.get(presented) ?? 0) + 1);
}

function release(window: Window, presented: string, guess: boolean): void {
  const count = window.pending.get(presented) ?? 0;
  if (count <= 1) window.pending.delete(presented);
  else window.pending.set(presented, count - 1);
  if (guess) window.failures++;
}

@Injectable()
export class KeyFailureThrottle {
  private readonly addresses: Windows;
  private readonly keyIds: Windows;

  constructor(limit: number = KEY_FAILURE_LIMIT, windowMs: number = KEY_FAILURE_WINDOW_MS, keyIdLimit: number = KEY_ID_FAILURE_LIMIT) {
    this.addresses = new Windows(limit, windowMs);
    this.keyIds = new Windows(keyIdLimit, windowMs);
  }

  /**
   * Checks and counts an attempt in one synchronous step. `presented` is the key as sent (kept in memory only
   * while the attempt is in flight), `keyId` the id it names (null when missing or malformed).
   */
  begin(address: string, keyId: string | null, presented: string, now = Date.now()): KeyAttemptStart {
    const wait = this.wait(address, keyId, presented, now);
    if (wait > 0) return { retryAfterSeconds: wait };
    const addressWindow = this.addresses.window(address, now);
    const keyWindow = keyId === null ? null : this.keyIds.window(keyId, now);
    hold(addressWindow, presented);
    if (keyWindow) hold(keyWindow, presented);
    return { retryAfterSeconds: 0, attempt: { presented, addressWindow, keyWindow } };
  }

  /**
   * What `begin` would answer, counting nothing: seconds to wait (0: the attempt may go ahead). A caller that
   * verifies synchronously and finds the key valid (no guess) needs only this: `begin` then `end(…, false)` in
   * one synchronous step leaves no trace either.
   */
  wait(address: string, keyId: string | null, presented: string, now = Date.now()): number {
    return Math.max(this.addresses.wait(address, now, presented), keyId === null ? 0 : this.keyIds.wait(keyId, now, presented));
  }

  /** A guess (malformed key, unknown id, wrong secret) is recorded; anything else leaves no trace. */
  end(attempt: KeyAttempt, guess: boolean): void {
    release(attempt.addressWindow, attempt.presented, guess);
    if (attempt.keyWindow) release(attempt.keyWindow, attempt.presented, guess);
  }

  /** Seconds until the address may present keys again, or 0 when it may now (no attempt counted). */
  retryAfterSeconds(address: string, now = Date.now()): number {
    return this.addresses.wait(address, now);
  }

  /** Records a guess after the fact (callers that did not begin an attempt). */
  recordFailure(address: string, now = Date.now()): void {
    this.addresses.window(address, now).failures++;
  }
}
