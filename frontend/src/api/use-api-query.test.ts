import { act, renderHook, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "./errors";
import { useApiQuery } from "./use-api-query";

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("useApiQuery", () => {
  it("is loading, then holds the data", async () => {
    const { result } = renderHook(() => useApiQuery("k", () => Promise.resolve(["a"])));

    expect(result.current.status).toBe("loading");
    await waitFor(() => {
      expect(result.current).toMatchObject({ status: "success", data: ["a"] });
    });
  });

  it("normalises a failure into an ApiError", async () => {
    const { result } = renderHook(() =>
      useApiQuery("k", () => Promise.reject(new ApiError(403, "permission_denied", "Not allowed."))),
    );

    await waitFor(() => {
      expect(result.current.status).toBe("error");
    });
    expect(result.current).toMatchObject({ error: { status: 403, code: "permission_denied", message: "Not allowed." } });
  });

  it("aborts the old request and never shows its data when the key changes", async () => {
    const first = deferred<string>();
    const second = deferred<string>();
    const signals: AbortSignal[] = [];
    const load = vi.fn((signal: AbortSignal) => {
      signals.push(signal);
      return signals.length === 1 ? first.promise : second.promise;
    });
    const { result, rerender } = renderHook(({ key }) => useApiQuery(key, load), { initialProps: { key: "org-a" } });

    rerender({ key: "org-b" });
    expect(signals[0]?.aborted).toBe(true);
    await act(async () => {
      first.resolve("data of org-a");
      await first.promise;
    });
    expect(result.current.status).toBe("loading");

    await act(async () => {
      second.resolve("data of org-b");
      await second.promise;
    });
    expect(result.current).toMatchObject({ status: "success", data: "data of org-b" });
  });

  it("loads nothing for a null key", () => {
    const load = vi.fn(() => Promise.resolve(1));
    const { result } = renderHook(() => useApiQuery(null, load));

    expect(load).not.toHaveBeenCalled();
    expect(result.current.status).toBe("loading");
  });

  it("loads again on reload", async () => {
    let calls = 0;
    const { result } = renderHook(() => useApiQuery("k", () => Promise.resolve(++calls)));
    await waitFor(() => {
      expect(result.current).toMatchObject({ status: "success", data: 1 });
    });

    act(() => {
      result.current.reload();
    });

    expect(result.current.status).toBe("loading");
    await waitFor(() => {
      expect(result.current).toMatchObject({ status: "success", data: 2 });
    });
  });

  it("keeps showing the loaded data while it reloads, when asked to, but not for a new key", async () => {
    const next = deferred<number>();
    let calls = 0;
    const { result, rerender } = renderHook(({ key }) => useApiQuery(key, () => (++calls === 1 ? Promise.resolve(1) : next.promise), { keepDataOnReload: true }), {
      initialProps: { key: "k" },
    });
    await waitFor(() => {
      expect(result.current).toMatchObject({ status: "success", data: 1 });
    });

    act(() => {
      result.current.reload();
    });
    expect(result.current).toMatchObject({ status: "success", data: 1 });
    await act(async () => {
      next.resolve(2);
      await next.promise;
    });
    expect(result.current).toMatchObject({ status: "success", data: 2 });

    rerender({ key: "other" });
    expect(result.current.status).toBe("loading");
  });
});
