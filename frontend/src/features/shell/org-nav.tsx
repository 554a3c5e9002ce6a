import { NavLink, useLocation } from "react-router";
import type { Membership } from "../../api/types";
import { cx } from "../../lib/class-names";
import { can } from "../orgs/permissions";

/**
 * The organisation's sections; an open conversation (`/t/…`) belongs to Chat. Policy is offered
 * to those who manage the organisation, Skills to those who configure agents.
 */
export function OrgNav({ membership }: { membership: Membership }) {
  const slug = membership.org.slug;
  const base = `/o/${encodeURIComponent(slug)}`;
  const { pathname } = useLocation();
  const inThread = pathname.startsWith(`${base}/t/`);
  const className = (active: boolean) => cx("org-nav__link", active && "org-nav__link--active");
  return (
    <nav className="org-nav" aria-label="Sections">
      <NavLink to={base} end className={({ isActive }) => className(isActive)}>
        Assistants
      </NavLink>
      <NavLink
        to={`${base}/chat`}
        className={({ isActive }) => className(isActive || inThread)}
        aria-current={inThread ? "page" : undefined}
      >
        Chat
      </NavLink>
      <NavLink to={`${base}/memory`} className={({ isActive }) => className(isActive)}>
        Memory
      </NavLink>
      <NavLink to={`${base}/connections`} className={({ isActive }) => className(isActive)}>
        Connections
      </NavLink>
      <NavLink to={`${base}/usage`} className={({ isActive }) => className(isActive)}>
        Usage
      </NavLink>
      {can(membership, "configure_agents") ? (
        <NavLink to={`${base}/skills`} className={({ isActive }) => className(isActive)}>
          Skills
        </NavLink>
      ) : null}
      {can(membership, "manage_org") ? (
        <NavLink to={`${base}/policy`} className={({ isActive }) => className(isActive)}>
          Policy
        </NavLink>
      ) : null}
    </nav>
  );
}
