import { ZAnalyzeInput, ZAnalyzeOutput } from '../../../shared/vinted';
import { adminProcedure, rateLimited, router } from '../../trpc';

// Each analysis is up to MAX_PAGES upstream calls on a shared, unofficial session.
const analyzeProcedure = rateLimited(adminProcedure, 'vinted.analyze', { points: 20, durationSeconds: 60 });

export const vintedRouter = router({
  analyze: analyzeProcedure
    .input(ZAnalyzeInput)
    .output(ZAnalyzeOutput)
    .mutation(({ ctx, input }) => ctx.app.vinted.analyze(input.query)),
});
