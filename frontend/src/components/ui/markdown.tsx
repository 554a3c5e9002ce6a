import { memo } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import remarkGfm from "remark-gfm";
import { isExternalUrl, safeLinkUrl } from "../../lib/safe-url";

/**
 * Renders untrusted Markdown (agent output) safely: raw HTML is never interpreted (react-markdown
 * without rehype-raw shows it as text), link targets pass through `safeLinkUrl`, and images are
 * not loaded (a remote image would tell its host who is reading); they become plain links.
 */

const components: Components = {
  a({ href, children }) {
    const target = href ? safeLinkUrl(href) : "";
    if (!target) return <span className="markdown__dead-link">{children}</span>;
    return isExternalUrl(target) ? (
      <a href={target} target="_blank" rel="noopener noreferrer nofollow">
        {children}
      </a>
    ) : (
      <a href={target}>{children}</a>
    );
  },
  img({ src, alt }) {
    const target = typeof src === "string" ? safeLinkUrl(src) : "";
    const label = alt?.trim() ? `Image: ${alt}` : "Image";
    return target ? (
      <a href={target} target="_blank" rel="noopener noreferrer nofollow">
        {label}
      </a>
    ) : (
      <span>{label}</span>
    );
  },
  table({ children }) {
    // Wide tables scroll inside the bubble instead of widening the page on a phone.
    return (
      <div className="markdown__table" tabIndex={0} role="region" aria-label="Table">
        <table>{children}</table>
      </div>
    );
  },
};

export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown remarkPlugins={[remarkGfm]} components={components} urlTransform={safeLinkUrl}>
        {text}
      </ReactMarkdown>
    </div>
  );
});
