import { useId } from "react";
import { useNavigate } from "react-router";
import type { Membership } from "../../api/types";

interface OrgSwitcherProps {
  memberships: Membership[];
  currentSlug: string;
}

/** The current organisation lives in the URL; switching is a navigation, so Back undoes it. */
export function OrgSwitcher({ memberships, currentSlug }: OrgSwitcherProps) {
  const id = useId();
  const navigate = useNavigate();
  return (
    <div className="org-switcher">
      <label className="org-switcher__label" htmlFor={id}>
        Organisation
      </label>
      <select
        id={id}
        className="org-switcher__select"
        value={currentSlug}
        onChange={(event) => {
          void navigate(`/o/${encodeURIComponent(event.target.value)}`);
        }}
      >
        {memberships.map(({ org }) => (
          <option key={org.id} value={org.slug}>
            {org.name}
          </option>
        ))}
      </select>
    </div>
  );
}
