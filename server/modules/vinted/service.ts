import type { Config } from '../../config';
import { AppError } from '../../errors';
import { UpstreamError } from '../../upstream/error';
import { limiter, unlimited, upstreamPolicy, type Budget, type RetryPolicy } from '../../upstream/policy';
import type { AnalyzeOutput } from '../../../shared/vinted';
import { CredentialUnavailableError, type VaultService } from '../vault/service';
import { fetchCataloguePage, type CatalogueItem } from './catalogue';
import { summarise } from './prices';

export interface VintedDeps {
  config: Config;
  vault: VaultService;
}

// Enough items for a fair median; more pages would only load an unofficial API.
export const MAX_PAGES = 5;

/** Market prices from Vinted's catalogue, read through the vault's live web session. */
export class VintedService {
  // Politeness towards an unofficial API: one request every two seconds at most (tests: no wait).
  private readonly budget: Budget;
  private readonly policy: RetryPolicy;

  constructor(private readonly deps: VintedDeps) {
    const test = deps.config.NODE_ENV === 'test';
    this.budget = test ? unlimited : limiter(30);
    this.policy = upstreamPolicy(deps.config);
  }

  async analyze(query: string): Promise<AnalyzeOutput> {
    const items: CatalogueItem[] = [];
    let pages = 0;
    let totalEntries = 0;
    try {
      for (let page = 1; page <= MAX_PAGES; page++) {
        // Each page asks the vault anew: a 401 mid-way is one refresh and one retry of that page.
        const body = await this.deps.vault.withCredential('vinted', (secrets) =>
          fetchCataloguePage({
            apiUrl: this.deps.config.VINTED_API_URL,
            secrets,
            query,
            page,
            budget: this.budget,
            policy: this.policy,
          }),
        );
        pages++;
        items.push(...body.items);
        totalEntries = body.pagination?.total_entries ?? items.length;
        const totalPages = body.pagination?.total_pages ?? page;
        if (page >= totalPages || body.items.length === 0) break;
      }
    } catch (err) {
      if (err instanceof CredentialUnavailableError) throw new AppError('PRECONDITION_FAILED', err.message);
      if (err instanceof UpstreamError) throw new AppError('BAD_GATEWAY', `${err.message}: try again in a minute.`);
      throw err;
    }
    return summarise(query, items, pages, totalEntries);
  }
}
