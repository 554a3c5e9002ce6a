import type { ButtonHTMLAttributes } from "react";
import { cx } from "../../lib/class-names";

interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: "primary" | "secondary" | "ghost" | "danger";
}

export function Button({ variant = "secondary", type = "button", className, ...props }: ButtonProps) {
  return <button type={type} className={cx("button", `button--${variant}`, className)} {...props} />;
}
