import { Link } from 'wouter';
import type { AppRoute } from '../routes';

/** An address no page answers (a mistyped link, or a page this account may not open). */
export function NotFound({ home }: { home: AppRoute }) {
  return (
    <section className="empty-state">
      <h1>Page not found</h1>
      <p>Nothing lives at this address.</p>
      <Link href={home.path}>Go to {home.label}</Link>
    </section>
  );
}
