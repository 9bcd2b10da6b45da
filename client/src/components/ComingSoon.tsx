export function ComingSoon({ feature }: { feature: string }) {
  return (
    <section className="empty-state">
      <h1>{feature}</h1>
      <p>Coming soon: this feature is on its way.</p>
    </section>
  );
}
