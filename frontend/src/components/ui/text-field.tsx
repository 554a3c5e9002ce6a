import { useId, type InputHTMLAttributes } from "react";
import { cx } from "../../lib/class-names";

interface TextFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, "id"> {
  label: string;
}

/** A labelled input: the label is always rendered and tied to the input by id. */
export function TextField({ label, className, ...props }: TextFieldProps) {
  const id = useId();
  return (
    <div className="field">
      <label className="field__label" htmlFor={id}>
        {label}
      </label>
      <input id={id} className={cx("field__input", className)} {...props} />
    </div>
  );
}
