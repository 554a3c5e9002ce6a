import type { ReactNode } from "react";

interface AlertProps {
  tone?: "error" | "info";
  children: ReactNode;
}

/** An error is announced as soon as it appears (role="alert"); info is announced politely. */
export function Alert({ tone = "error", children }: AlertProps) {
  return (
    <div className={`alert alert--${tone}`} role={tone === "error" ? "alert" : "status"}>
      {children}
    </div>
  );
}
