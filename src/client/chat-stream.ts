import type { ChatResponse, StreamEvent } from "./types.js";

/** Starts the work behind a stream: emits events, resolves with the final response. */
export type StreamProducer = (
  emit: (event: StreamEvent) => void,
  signal: AbortSignal,
) => Promise<ChatResponse>;

function abortError(message: string): Error {
  return new DOMException(message, "AbortError");
}

/**
 * A streamed answer: `for await (const text of stream)` yields text deltas; `.events()` yields
 * every typed event; `.response` is the final answer; `.abort()` (or leaving a loop early) cancels
 * the request and rejects `.response` with an `AbortError`. `.response` never causes an unhandled
 * rejection when nobody awaits it. One consumer per stream: iterate it or its events, once.
 */
export class ChatStream implements AsyncIterable<string> {
  /** The final answer, the same shape as `complete()`'s. */
  readonly response: Promise<ChatResponse>;
  readonly #controller = new AbortController();
  readonly #queue: StreamEvent[] = [];
  #head = 0;
  #ended = false;
  #failure: { error: unknown } | undefined;
  #consumed = false;
  /** What the reader takes from the queue (text or events). */
  #take: (() => unknown) | undefined;
  /** The pending `next()` of a reader that found the queue empty. */
  #resolve: ((result: IteratorResult<unknown>) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  #scheduled = false;

  constructor(producer: StreamProducer) {
    this.response = producer((event) => this.#push(event), this.#controller.signal).then(
      (response) => {
        this.#end(undefined);
        return response;
      },
      (error: unknown) => {
        this.#end({ error });
        throw error;
      },
    );
    this.response.catch(() => {});
  }

  /** Cancels the request. `.response` rejects with `reason` (default: an `AbortError`). */
  abort(reason: unknown = abortError("The stream was aborted")): void {
    this.#controller.abort(reason);
  }

  /** Every typed event, in order: attempts, text and tool-call deltas, retries, fallbacks, … */
  events(): AsyncIterableIterator<StreamEvent> {
    return this.#iterate(() => this.#queue[this.#head++]);
  }

  /**
   * Text deltas. The text that arrived since the last step comes as one string (one step per
   * network read, not per token, when the reader keeps up). After a `restart` event the text
   * goes on with the new answer.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<string> {
    return this.#iterate(() => {
      let text: string | undefined;
      while (this.#head < this.#queue.length) {
        const event = this.#queue[this.#head++]!;
        if (event.type === "text-delta") text = text === undefined ? event.text : text + event.text;
      }
      return text;
    });
  }

  /** An iterator over the queue; `take` consumes from it and returns the next value, if any. */
  #iterate<T>(take: () => T | undefined): AsyncIterableIterator<T> {
    if (this.#consumed) throw new Error("a stream can be iterated once: use .events() or the text");
    this.#consumed = true;
    this.#take = take;
    const stop = (): IteratorResult<T> => {
      if (!this.#ended) this.abort(abortError("The stream consumer stopped reading"));
      this.#queue.length = 0;
      this.#head = 0;
      return { done: true, value: undefined };
    };
    // `next` is no async function: a reader waiting for the network holds one promise, not a
    // suspended frame as well.
    const iterator: AsyncIterableIterator<T> = {
      next: (): Promise<IteratorResult<T>> => {
        try {
          const result = this.#poll() as IteratorResult<T> | undefined;
          if (result !== undefined) return Promise.resolve(result);
        } catch (error) {
          return Promise.reject(error);
        }
        return new Promise<IteratorResult<T>>((resolve, reject) => {
          this.#resolve = resolve as (result: IteratorResult<unknown>) => void;
          this.#reject = reject;
        });
      },
      return: async () => stop(),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** The next step for the reader: a value, the end, or undefined when it must wait. */
  #poll(): IteratorResult<unknown> | undefined {
    const take = this.#take as () => unknown;
    while (this.#head < this.#queue.length) {
      const value = take();
      if (value !== undefined) return { done: false, value };
    }
    this.#queue.length = 0;
    this.#head = 0;
    if (this.#failure) throw this.#failure.error;
    if (this.#ended) return { done: true, value: undefined };
    return undefined;
  }

  /** Runs after the events of the current turn were pushed: they reach the reader as one step. */
  readonly #settle = (): void => {
    this.#scheduled = false;
    const resolve = this.#resolve;
    const reject = this.#reject;
    if (resolve === undefined || reject === undefined) return;
    let result: IteratorResult<unknown> | undefined;
    try {
      result = this.#poll();
    } catch (error) {
      this.#resolve = undefined;
      this.#reject = undefined;
      reject(error);
      return;
    }
    if (result === undefined) return;
    this.#resolve = undefined;
    this.#reject = undefined;
    resolve(result);
  };

  #push(event: StreamEvent): void {
    if (this.#ended) return;
    this.#queue.push(event);
    this.#notify();
  }

  #end(failure: { error: unknown } | undefined): void {
    this.#ended = true;
    this.#failure = failure;
    this.#notify();
  }

  #notify(): void {
    if (this.#resolve === undefined || this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(this.#settle);
  }
}
