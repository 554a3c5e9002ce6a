import { useId, useState } from "react";
import { Alert } from "../../components/ui/alert";
import { Button } from "../../components/ui/button";
import { toApiError } from "../../api/errors";
import { parseBudgetPause, type BudgetPause } from "../../lib/budget";
import { parseConsentRequest, type ConsentRequest } from "../../lib/consent";
import { buildHitlResponse, parseHitlRequest, type Decision, type HitlRequest } from "../../lib/hitl";
import { HitlAction } from "./hitl-action";
import type { ChatInterrupt } from "./stream/chat-stream";

interface InterruptPanelProps {
  interrupt: ChatInterrupt;
  readOnly: boolean;
  onRespond: (value: unknown, interruptId: string | null) => Promise<void>;
}

function HitlReview({ request, interrupt, readOnly, onRespond }: InterruptPanelProps & { request: HitlRequest }) {
  const [decisions, setDecisions] = useState<(Decision | undefined)[]>(() => request.actions.map(() => undefined));
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const single = request.actions.length === 1;

  async function send(all: (Decision | undefined)[]) {
    const response = buildHitlResponse(request, all);
    if (!response) return;
    setSending(true);
    setError(null);
    try {
      await onRespond(response, interrupt.id);
    } catch (caught) {
      setError(toApiError(caught).message);
      setSending(false);
    }
  }

  return (
    <>
      <ul className="hitl-actions">
        {request.actions.map((action, index) => (
          <HitlAction
            key={`${action.name}-${String(index)}`}
            action={action}
            decision={decisions[index]}
            disabled={readOnly || sending}
            onDecide={(decision) => {
              const next = decisions.map((current, position) => (position === index ? decision : current));
              setDecisions(next);
              if (single) void send(next);
            }}
          />
        ))}
      </ul>
      {error ? <Alert>{error}</Alert> : null}
      {!single && !readOnly ? (
        <div className="hitl-actions__footer">
          <Button variant="ghost" disabled={sending} onClick={() => { setDecisions(request.actions.map(() => undefined)); }}>
            Start over
          </Button>
          <Button variant="primary" disabled={sending || !buildHitlResponse(request, decisions)} onClick={() => void send(decisions)}>
            Send decisions
          </Button>
        </div>
      ) : null}
    </>
  );
}

function formatJson(value: unknown): string {
  // JSON.stringify gives undefined for undefined (and functions), despite its declared type.
  const text = JSON.stringify(value, null, 2) as string | undefined;
  return text ?? "(no details)";
}

function FreeformAnswer({ interrupt, readOnly, onRespond }: InterruptPanelProps) {
  const id = useId();
  const [answer, setAnswer] = useState("");
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      className="stack-sm"
      onSubmit={(event) => {
        event.preventDefault();
        onRespond(answer, interrupt.id).catch((caught: unknown) => { setError(toApiError(caught).message); });
      }}
    >
      <pre className="code-block">{formatJson(interrupt.value)}</pre>
      <label className="field__label" htmlFor={id}>Your answer</label>
      <input id={id} className="field__input" value={answer} disabled={readOnly} onChange={(event) => { setAnswer(event.target.value); }} />
      {error ? <Alert>{error}</Alert> : null}
      <div>
        <Button type="submit" variant="primary" disabled={readOnly}>Send answer</Button>
      </div>
    </form>
  );
}

/** The agent needs the user's account at an outside service: consenting resumes the run by itself. */
function ConnectCard({ consent }: { consent: ConsentRequest }) {
  return (
    <div className="stack-sm" data-testid="connect-card">
      <p>
        {consent.reason === "refresh_failed" || consent.reason === "needs_consent"
          ? `Your connection to ${consent.providerName} has expired. Connect it again to continue.`
          : `To continue, the assistant needs access to your ${consent.providerName} account.`}
      </p>
      {consent.scopes.length > 0 ? <p className="muted">Access asked for: {consent.scopes.join(", ")}</p> : null}
      <div>
        <a className="button button--primary" href={consent.authorizationUrl}>
          Connect {consent.providerName}
        </a>
      </div>
      <p className="muted">You come back here afterwards, and the assistant carries on.</p>
    </div>
  );
}

/** A budget is spent: the run waits until an admin raises it (or the period ends); Continue asks again. */
function BudgetCard({ pause, interrupt, readOnly, onRespond }: InterruptPanelProps & { pause: BudgetPause }) {
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function resume() {
    setSending(true);
    setError(null);
    try {
      await onRespond({}, interrupt.id);
    } catch (caught) {
      setError(toApiError(caught).message);
      setSending(false);
    }
  }
  return (
    <div className="stack-sm" data-testid="budget-card">
      <p>{pause.message}</p>
      <p className="muted">
        {pause.scope === "org" ? "Your organisation's" : "Your"} {pause.period === "day" ? "daily" : "monthly"} budget
        can be raised by an org admin. Once it is, continue: the assistant picks up where it stopped (and pauses again if
        the budget is still spent).
      </p>
      {error ? <Alert>{error}</Alert> : null}
      <div>
        <Button variant="primary" disabled={readOnly || sending} onClick={() => void resume()}>
          Continue
        </Button>
      </div>
    </div>
  );
}

/** The agent stopped to ask: what it wants to do, and the answers the reader may give. */
export function InterruptPanel(props: InterruptPanelProps) {
  const titleId = useId();
  const consent = parseConsentRequest(props.interrupt.value);
  if (consent) {
    return (
      <section className="interrupt" aria-labelledby={titleId} data-testid="interrupt">
        <h2 id={titleId} className="interrupt__title">
          Connect {consent.providerName}
        </h2>
        <ConnectCard consent={consent} />
      </section>
    );
  }
  const pause = parseBudgetPause(props.interrupt.value);
  if (pause) {
    return (
      <section className="interrupt" aria-labelledby={titleId} data-testid="interrupt">
        <h2 id={titleId} className="interrupt__title">
          Usage budget spent
        </h2>
        {props.readOnly ? <p className="muted">You have view-only access, so someone who may chat has to continue.</p> : null}
        <BudgetCard {...props} pause={pause} />
      </section>
    );
  }
  const request = parseHitlRequest(props.interrupt.value);
  return (
    <section className="interrupt" aria-labelledby={titleId} data-testid="interrupt">
      <h2 id={titleId} className="interrupt__title">
        {request ? "The assistant needs your approval" : "The assistant is waiting for you"}
      </h2>
      {props.readOnly ? <p className="muted">You have view-only access, so someone who may chat has to answer this.</p> : null}
      {request ? <HitlReview {...props} request={request} /> : <FreeformAnswer {...props} />}
    </section>
  );
}
