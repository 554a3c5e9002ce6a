import type { HTMLAttributes } from "react";
import { cx } from "../../lib/class-names";

interface BadgeProps extends HTMLAttributes<HTMLSpanElement> {
  tone?: "neutral" | "accent" | "strong";
}

export function Badge({ tone = "neutral", className, ...props }: BadgeProps) {
  return <span className={cx("badge", `badge--${tone}`, className)} {...props} />;
}
